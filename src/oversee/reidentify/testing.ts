/**
 * Test support for re-identification (not used by production code): an approval case of the
 * kind the service accepts, as the tests store it.
 */
import type { ApprovalCaseBody } from '../../common/schema/case.ts';
import type { CaseRecord } from '../../store/types.ts';

const DAY = 86_400_000;

/**
 * A `police-measure` approval case covering `providers`, valid from a day before `now` for 30
 * days, in state `state`; `over` replaces any body field.
 */
export function approvalCase(
  id: string,
  providers: string[],
  now: number,
  over: Partial<ApprovalCaseBody> = {},
  state = 'approved',
): CaseRecord {
  const body: ApprovalCaseBody = {
    format: 'acd.approval-case/1',
    kind: 'police-measure',
    title: 'Botnet C2 investigation',
    justification: 'Hosts beaconing to a known C2 server.',
    requester: 'carol',
    requesterRole: 'police',
    providers,
    targetActs: ['unauthorised access'],
    targets: ['C2 server'],
    selectors: [],
    validFrom: now - DAY,
    validUntil: now + 30 * DAY,
    parameterVersion: 'lp-2026-1',
    history: [],
    ...over,
  };
  return {
    id,
    kind: 'approval-case',
    state,
    createdAt: now - DAY,
    updatedAt: now - DAY,
    body: body as unknown as Record<string, unknown>,
  };
}
