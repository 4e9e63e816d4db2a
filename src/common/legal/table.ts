/**
 * The legal-parameter table (REQUIREMENTS R-NF-2, R-RET-1; DESIGN section 6): retention per
 * channel, deadlines, the critical-infrastructure sectors and the approval kinds, as versioned
 * data with effective dates. Where the law leaves a number to a later Cabinet order, the number
 * lives here, never as a constant in code. A version takes effect at its `effectiveFrom`; a version
 * dated in the future changes nothing until then. Every selected record names the version it was
 * stamped with (`provenance.parameterVersion`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { APPROVAL_KINDS, type ApprovalKind } from '../schema/approval.ts';
import { LEGAL_CHANNELS, type LegalChannel } from '../schema/legal.ts';
import { IsoTimestamp, parseIsoTimestamp } from '../signing/trust.ts';
import {
  addLegalDuration,
  LEGAL_DURATION_PATTERN,
  parseLegalDuration,
  type LegalDuration,
} from './duration.ts';
import { LegalParameterError } from './errors.ts';

/** Value of the file's `format` member; bump the suffix on incompatible changes. */
export const LEGAL_PARAMETERS_FORMAT = 'acd.legal-parameters/1';

/** Named deadlines (each a legal duration counted from its triggering event). */
export const DEADLINE_NAMES = [
  /** An emergency measure taken before approval must be notified to the commission within this. */
  'emergency-measure-notification',
  /** A critical-infrastructure operator's first incident report is due within this. */
  'incident-report-initial',
  /** The operator's final incident report is due within this. */
  'incident-report-final',
  /** Longest time between an expiry/revocation and the feed's stop that the edge may allow. */
  'revocation-stop',
] as const;
/** One deadline name. */
export type DeadlineName = (typeof DEADLINE_NAMES)[number];

/**
 * Sections of the transparency report (R-OVS-7) a version may list as its report fields; the
 * service statistics are always reported. A version without the list reports every section.
 */
export const REPORT_SECTIONS = [
  'approvals',
  'inspections',
  'communications',
  'measures',
  'reidentifications',
  'retention',
] as const;
/** One report section. */
export type ReportSectionName = (typeof REPORT_SECTIONS)[number];

const DurationText = Type.String({
  pattern: LEGAL_DURATION_PATTERN,
  description: 'A duration: <n>ms|s|m|h|d (fixed) or <n>mo|y (calendar, UTC).',
});
const VersionId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });
const SectorId = Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$' });

/** Schema of one version of the table. */
export const LegalParameterVersionSchema = Type.Object(
  {
    version: VersionId,
    effectiveFrom: IsoTimestamp,
    basis: Type.String({
      minLength: 1,
      maxLength: 4000,
      description: 'The legal text this version implements.',
    }),
    retention: Type.Object(
      {
        default: DurationText,
        channels: Type.Partial(
          Type.Object(Object.fromEntries(LEGAL_CHANNELS.map((c) => [c, DurationText])), {
            additionalProperties: false,
          }),
        ),
      },
      { additionalProperties: false },
    ),
    deadlines: Type.Object(Object.fromEntries(DEADLINE_NAMES.map((d) => [d, DurationText])), {
      additionalProperties: false,
    }),
    sectors: Type.Array(SectorId, { minItems: 1, maxItems: 100, uniqueItems: true }),
    approvalKinds: Type.Array(
      Type.Object(
        { kind: Type.Union(APPROVAL_KINDS.map((k) => Type.Literal(k))), maxValidity: DurationText },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 32 },
    ),
    reportSections: Type.Optional(
      Type.Array(Type.Union(REPORT_SECTIONS.map((r) => Type.Literal(r))), {
        uniqueItems: true,
        maxItems: REPORT_SECTIONS.length,
        description:
          'The transparency report sections this version requires (R-OVS-7, R-NF-2 report fields); absent: all.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** Schema of a legal-parameter file (the shipped one or an override). */
export const LegalParameterFileSchema = Type.Object(
  {
    format: Type.Literal(LEGAL_PARAMETERS_FORMAT),
    versions: Type.Array(LegalParameterVersionSchema, { minItems: 1, maxItems: 1000 }),
  },
  { additionalProperties: false },
);
/** Contents of a legal-parameter file. */
export type LegalParameterFile = Static<typeof LegalParameterFileSchema>;

/** One version of the legal parameters, resolved. */
export class LegalParameters {
  /** Stamped on every record as `provenance.parameterVersion`. */
  readonly version: string;
  /** Epoch ms from which this version is in force. */
  readonly effectiveFrom: number;
  readonly basis: string;
  /** The 15 critical-infrastructure sectors (or whatever the version lists). */
  readonly sectors: readonly string[];
  /** Approval kinds and their longest validity. */
  readonly approvalKinds: ReadonlyMap<ApprovalKind, LegalDuration>;
  /** Transparency-report sections this version requires (report fields, R-NF-2). */
  readonly reportSections: readonly ReportSectionName[];
  /**
   * `retention.default`: the retention of channels the version does not list, and the retention
   * job's deadline for derived data (alerts, incidents, rollups), which mixes channels.
   */
  readonly retentionDefault: LegalDuration;
  readonly #retention: ReadonlyMap<LegalChannel, LegalDuration>;
  readonly #deadlines: ReadonlyMap<DeadlineName, LegalDuration>;

  /** Use {@link LegalParameterTable}; this takes a version already checked against the schema. */
  constructor(v: Static<typeof LegalParameterVersionSchema>, key: string) {
    const dur = (text: string, at: string): LegalDuration => {
      const d = parseLegalDuration(text);
      if (!d) throw new LegalParameterError(`${key}.${at}`, 'not a duration');
      return d;
    };
    const from = parseIsoTimestamp(v.effectiveFrom);
    if (from === undefined) throw new LegalParameterError(`${key}.effectiveFrom`, 'not a real date');
    this.version = v.version;
    this.effectiveFrom = from;
    this.basis = v.basis;
    this.sectors = [...v.sectors];
    const def = dur(v.retention.default, 'retention.default');
    this.retentionDefault = def;
    const channels = v.retention.channels as Partial<Record<LegalChannel, string>>;
    this.#retention = new Map(
      LEGAL_CHANNELS.map((c) => {
        const t = channels[c];
        return [c, t === undefined ? def : dur(t, `retention.channels.${c}`)];
      }),
    );
    const deadlines = v.deadlines as Record<DeadlineName, string>;
    this.#deadlines = new Map(DEADLINE_NAMES.map((d) => [d, dur(deadlines[d], `deadlines.${d}`)]));
    const kinds = new Map<ApprovalKind, LegalDuration>();
    v.approvalKinds.forEach((k, i) => {
      if (kinds.has(k.kind)) throw new LegalParameterError(`${key}.approvalKinds.${i}.kind`, 'listed twice');
      kinds.set(k.kind, dur(k.maxValidity, `approvalKinds.${i}.maxValidity`));
    });
    this.approvalKinds = kinds;
    this.reportSections = [...(v.reportSections ?? REPORT_SECTIONS)];
  }

  /** Retention of records of a channel. */
  retention(channel: LegalChannel): LegalDuration {
    return this.#retention.get(channel)!;
  }

  /** Retention deadline of a record of `channel` whose event time is `eventTime` (R-RET-1). */
  retainUntil(channel: LegalChannel, eventTime: number): number {
    return addLegalDuration(eventTime, this.#retention.get(channel)!);
  }

  /** A named deadline. */
  deadline(name: DeadlineName): LegalDuration {
    return this.#deadlines.get(name)!;
  }

  /** When a deadline triggered at `from` falls due. */
  dueAt(name: DeadlineName, from: number): number {
    return addLegalDuration(from, this.#deadlines.get(name)!);
  }
}

function schemaKey(label: string, path: string): string {
  const key = path
    .split('/')
    .filter((s) => s.length > 0)
    .join('.');
  return key ? `${label}:${key}` : label;
}

/** Checks one parsed file against the schema; throws `LegalParameterError` naming the key. */
export function validateLegalParameterFile(value: unknown, label: string): LegalParameterFile {
  const first = Value.Errors(LegalParameterFileSchema, value).First();
  if (first) throw new LegalParameterError(schemaKey(label, first.path), first.message);
  return value as LegalParameterFile;
}

/**
 * Every version of the legal parameters, ordered by `effectiveFrom`. Built from the shipped file
 * plus optional override files (which add versions; a version id may appear only once, because a
 * stamped `parameterVersion` must always mean the same numbers).
 */
export class LegalParameterTable {
  readonly #versions: LegalParameters[];

  /** `files` are validated (see {@link validateLegalParameterFile}) with their labels. */
  constructor(files: readonly { label: string; file: LegalParameterFile }[]) {
    const all: LegalParameters[] = [];
    const ids = new Set<string>();
    const starts = new Map<number, string>();
    for (const { label, file } of files) {
      file.versions.forEach((v, i) => {
        const key = `${label}:versions.${i}`;
        if (ids.has(v.version))
          throw new LegalParameterError(`${key}.version`, `version ${v.version} is defined twice`);
        const p = new LegalParameters(v, key);
        const clash = starts.get(p.effectiveFrom);
        if (clash !== undefined)
          throw new LegalParameterError(`${key}.effectiveFrom`, `same effectiveFrom as version ${clash}`);
        ids.add(v.version);
        starts.set(p.effectiveFrom, v.version);
        all.push(p);
      });
    }
    if (all.length === 0) throw new LegalParameterError('legal-parameters', 'no version defined');
    this.#versions = all.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
  }

  /** Every version, oldest first. */
  versions(): readonly LegalParameters[] {
    return this.#versions;
  }

  /**
   * The version in force at `time` (epoch ms): the one with the latest `effectiveFrom` not after
   * `time`. Throws `LegalParameterError` before the first version (nothing is lawful then).
   */
  parametersAt(time: number): LegalParameters {
    let lo = 0;
    let hi = this.#versions.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#versions[mid]!.effectiveFrom <= time) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0)
      throw new LegalParameterError(
        'legal-parameters',
        `no version is in force at ${new Date(time).toISOString()}`,
      );
    return this.#versions[found]!;
  }

  /** The version with this id, if any (to interpret a stamped `parameterVersion`). */
  byVersion(version: string): LegalParameters | undefined {
    return this.#versions.find((v) => v.version === version);
  }
}
