/**
 * Builders for the retention tests: a legal-parameter table with short, differing retentions (and
 * optionally a future-dated version), approval cases of kind retention-extension. Not used by
 * production code.
 */
import {
  legalParametersFrom,
  shippedLegalParameterFile,
  type LegalParameterTable,
} from '../../common/legal/index.ts';
import type { CaseRecord } from '../../store/types.ts';

/** 2026-03-01T00:00:00Z: the tests' "today". */
export const NOW = Date.UTC(2026, 2, 1);
/** One day. */
export const DAY = 86_400_000;

/**
 * A table whose version `test-1` (in force since 2026-01-01) keeps transit traffic 10 days,
 * specified domestic-to-foreign traffic 20 days and everything else (derived data too) 30 days;
 * with `future`, a version `test-2` from `future` keeps everything 1 day.
 */
export function testLegal(future?: number): LegalParameterTable {
  const file = shippedLegalParameterFile();
  const base = structuredClone(file.versions[0]);
  if (!base) throw new Error('shipped legal parameters are empty');
  const versions: Record<string, unknown>[] = [
    {
      ...base,
      version: 'test-1',
      effectiveFrom: '2026-01-01T00:00:00.000Z',
      retention: {
        default: '30d',
        channels: { 'transit-foreign-to-foreign': '10d', 'specified-domestic-to-foreign': '20d' },
      },
    },
  ];
  if (future !== undefined)
    versions.push({
      ...base,
      version: 'test-2',
      effectiveFrom: new Date(future).toISOString(),
      retention: { default: '1d', channels: {} },
    });
  return legalParametersFrom([{ label: 'test', value: { format: file.format, versions } }]);
}

/** An approval case of kind retention-extension. */
export function extensionCase(
  id: string,
  o: { state?: string; validUntil: number; incidentIds?: string[]; days?: string[]; updatedAt?: number },
): CaseRecord {
  return {
    id,
    kind: 'approval-case',
    state: o.state ?? 'approved',
    createdAt: NOW - 5 * DAY,
    updatedAt: o.updatedAt ?? NOW - DAY,
    body: {
      format: 'acd.approval-case/1',
      kind: 'retention-extension',
      title: 'keep the evidence of a case under investigation',
      justification: 'prosecution pending',
      requester: 'sup-1',
      requesterRole: 'supervisor',
      providers: ['*'],
      targetActs: [],
      targets: [],
      selectors: [],
      validFrom: NOW - 2 * DAY,
      validUntil: o.validUntil,
      parameterVersion: 'test-1',
      retentionHolds: { incidentIds: o.incidentIds ?? [], days: o.days ?? [] },
      history: [],
    },
  };
}
