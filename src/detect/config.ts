/**
 * Configuration of the detection engine and its detectors (typebox schema: bounds, defaults and
 * a description for every parameter). `resolveDetectConfig` fills defaults and names the first
 * bad key in a `ConfigError` (`detect.<path>`). The defaults are the documented ones of
 * src/detect/README.md; each detector's README explains how its parameters are used.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../common/errors.ts';

const MiB = 1024 * 1024;

function int(min: number, max: number, def: number, description: string) {
  return Type.Integer({ minimum: min, maximum: max, default: def, description });
}
function num(min: number, max: number, def: number, description: string) {
  return Type.Number({ minimum: min, maximum: max, default: def, description });
}
function obj<T extends Record<string, TSchema>>(props: T, description: string) {
  return Type.Object(props, { default: {}, additionalProperties: false, description });
}

/** Engine parameters (watermarks, batching, cross-exporter deduplication). */
export const EngineConfigSchema = obj(
  {
    allowedLatenessMs: int(
      0,
      600_000,
      2000,
      'Event-time lateness tolerated per partition: the watermark trails the newest event time by this much; older records are late (counted, dropped).',
    ),
    idleTimeoutMs: int(
      100,
      3_600_000,
      30_000,
      'Processing (wall) time after which a silent partition (exporter/edge) no longer holds the watermark back.',
    ),
    batchSize: int(
      64,
      65_536,
      4096,
      'Rows per internal batch on the object path (records pushed one by one are processed per batch).',
    ),
    dedup: obj(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'Count a flow reported by several exporters once.',
        }),
        windowMs: int(
          0,
          60_000,
          2000,
          'Largest start-time difference between two exporters\u2019 records of the same 5-tuple that are still one flow.',
        ),
        entries: int(
          1024,
          1 << 24,
          1 << 18,
          'Flows remembered for deduplication (fixed memory: 20 bytes each).',
        ),
      },
      'Cross-exporter deduplication.',
    ),
  },
  'Detection engine.',
);

/** `scan` detector parameters. */
export const ScanConfigSchema = obj(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the detector.' }),
    windowMs: int(
      1000,
      3_600_000,
      60_000,
      'Tumbling window over which a source\u2019s contacts are summarised into one evidence.',
    ),
    stateBudgetBytes: int(
      64 * 1024,
      4096 * MiB,
      32 * MiB,
      'Memory budget for per-source state and the first-contact cache.',
    ),
    keyTtlMs: int(
      1000,
      86_400_000,
      600_000,
      'Event time after which an idle source\u2019s state (including its random walk) is dropped.',
    ),
    groupIpv6By64: Type.Boolean({ default: true, description: 'Key IPv6 sources by their /64.' }),
    theta0: num(
      0.01,
      0.99,
      0.8,
      'Random walk: probability that a first contact of a benign host succeeds (Jung et al. 2004).',
    ),
    theta1: num(0.01, 0.99, 0.2, 'Random walk: probability that a first contact of a scanner succeeds.'),
    targetDetection: num(
      0.5,
      0.99999,
      0.99,
      'Random walk: target detection probability P_D (upper threshold P_D/P_F).',
    ),
    targetFalsePositive: num(
      0.00001,
      0.5,
      0.01,
      'Random walk: target false-positive probability P_F (lower threshold (1\u2212P_D)/(1\u2212P_F)).',
    ),
    minFailedContacts: int(
      1,
      1_000_000,
      8,
      'Failed first contacts a source needs in a window before any evidence (cold-start floor).',
    ),
    horizontalMinDestinations: int(
      2,
      1_000_000,
      20,
      'Distinct destinations (failed contacts) on one port that make a horizontal scan even without the random walk.',
    ),
    verticalMinPorts: int(
      2,
      65_536,
      15,
      'Distinct ports of one destination (failed contacts) that make a vertical scan even without the random walk.',
    ),
    minFailureRatio: num(
      0,
      1,
      0.6,
      'Share of first contacts that failed, required for the floor rules above.',
    ),
    contactCacheEntries: int(
      1024,
      1 << 26,
      1 << 20,
      'First-contact cache (source, destination, port) entries; bounded, oldest replaced.',
    ),
    maxCampaigns: int(16, 1_000_000, 4096, 'Scan campaigns (port set, initial TTL, hour) tracked at once.'),
    maxRecordIds: int(0, 1000, 8, 'Record ids kept per evidence.'),
  },
  'Scan detector (horizontal, vertical, campaigns, research scanners).',
);

/** `ddos` detector parameters. */
export const DdosConfigSchema = obj(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the detector.' }),
    bucketMs: int(100, 60_000, 1000, 'Sliding-window hop: rates are evaluated every bucket.'),
    windowBuckets: int(1, 120, 3, 'Buckets per sliding window (window = bucketMs \u00d7 windowBuckets).'),
    stateBudgetBytes: int(
      64 * 1024,
      4096 * MiB,
      32 * MiB,
      'Memory budget for per-destination state, distinct-source sketches and the admission sketch.',
    ),
    keyTtlMs: int(
      1000,
      86_400_000,
      1_800_000,
      'Event time after which an idle destination\u2019s state and baseline are dropped.',
    ),
    groupIpv6By64: Type.Boolean({
      default: false,
      description: 'Key IPv6 victims by their /64 (off: a victim is one address).',
    }),
    admitPacketsPerSecond: num(
      0,
      1e9,
      50,
      'Destinations get exact state only once a count-min sketch sees this many packets/s to them.',
    ),
    cmsWidth: int(
      1024,
      1 << 24,
      1 << 16,
      'Admission count-min sketch width (error \u2264 e/width of the packets of one bucket).',
    ),
    cmsDepth: int(1, 16, 4, 'Admission count-min sketch depth (failure probability e^\u2212depth).'),
    hllPrecision: int(
      4,
      12,
      6,
      'HyperLogLog precision for distinct sources per destination (2^p bytes, error \u2248 1.04/\u221a2^p).',
    ),
    minSources: int(1, 1_000_000, 20, 'Distinct sources a typed attack (SYN, UDP, reflection) needs.'),
    synFloorPps: num(1, 1e10, 500, 'Cold-start floor: SYN-only packets/s to one destination.'),
    reflectionFloorPps: num(
      1,
      1e10,
      1000,
      'Cold-start floor: reflected packets/s (UDP from an amplifier port with amplified sizes).',
    ),
    udpFloorPps: num(
      1,
      1e10,
      1000,
      'Cold-start floor: packets/s of large (\u2265 udpMinPacketBytes) UDP datagrams.',
    ),
    udpMinPacketBytes: int(64, 65_535, 500, 'Mean UDP datagram size that counts as flood payload.'),
    volumeFloorPps: num(1, 1e12, 200_000, 'Cold-start floor for untyped volume: packets/s.'),
    volumeFloorBps: num(1, 1e14, 2e9, 'Cold-start floor for untyped volume: bits/s.'),
    flowFloorPerSecond: num(1, 1e10, 5000, 'Cold-start floor for untyped volume: flows/s.'),
    baselineAlpha: num(0.0001, 1, 0.02, 'EWMA weight of one bucket in the learned baseline.'),
    baselineDeviations: num(
      1,
      100,
      6,
      'Alarm when a rate exceeds mean + k \u00b7 mean absolute deviation \u2026',
    ),
    baselineRatio: num(1, 1000, 4, '\u2026 and k\u2032 \u00d7 the mean (both, once the baseline is warm).'),
    warmupBuckets: int(
      1,
      1_000_000,
      60,
      'Buckets of history before the learned baseline counts (before: floors only).',
    ),
    reemitMs: int(1000, 3_600_000, 30_000, 'While an attack lasts, evidence is emitted again this often.'),
    maxRecordIds: int(0, 1000, 8, 'Record ids kept per evidence.'),
  },
  'DDoS detector (volumetric, SYN, UDP, reflection).',
);

/** `brute-force` detector parameters. */
export const BruteForceConfigSchema = obj(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the detector.' }),
    windowMs: int(
      1000,
      86_400_000,
      120_000,
      'Tumbling window over which a source\u2019s attempts are counted.',
    ),
    stateBudgetBytes: int(64 * 1024, 4096 * MiB, 16 * MiB, 'Memory budget for per-source state.'),
    keyTtlMs: int(
      1000,
      86_400_000,
      600_000,
      'Event time after which an idle source\u2019s state is dropped.',
    ),
    groupIpv6By64: Type.Boolean({ default: true, description: 'Key IPv6 sources by their /64.' }),
    ports: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
      default: [21, 22, 23, 25, 110, 139, 143, 445, 465, 587, 993, 995, 3389, 5900, 5901],
      description:
        'Authentication services: FTP, SSH, Telnet, SMTP(+submission), POP3(S), NetBIOS/SMB, IMAP(S), RDP, VNC.',
    }),
    minAttempts: int(2, 1_000_000, 15, 'Cold-start floor: connection attempts in one window.'),
    maxDestinations: int(
      1,
      1000,
      3,
      'At most this many destinations per source (more is a scan, not a login attack).',
    ),
    minPackets: int(1, 1000, 4, 'Packets of an attempt (a handshake and some authentication exchange).'),
    maxPackets: int(1, 1_000_000, 120, 'Packets above which a connection is a session, not an attempt.'),
    maxBytes: int(100, 1e9, 40_000, 'Bytes above which a connection is a session, not an attempt.'),
    maxDurationMs: int(
      100,
      86_400_000,
      60_000,
      'Duration above which a connection is a session, not an attempt.',
    ),
    maxSizeCv: num(0, 10, 0.6, 'Largest coefficient of variation of attempt sizes (attempts look alike).'),
    baselineAlpha: num(
      0.0001,
      1,
      0.05,
      'EWMA weight of one closed source-window in the learned attempts baseline.',
    ),
    baselineDeviations: num(1, 100, 6, 'Threshold = max(minAttempts, mean + k \u00b7 deviation) once warm.'),
    warmupWindows: int(1, 1_000_000, 50, 'Closed source-windows before the learned baseline counts.'),
    maxRecordIds: int(0, 1000, 8, 'Record ids kept per evidence.'),
  },
  'Brute-force detector (SSH, RDP, Telnet, VNC, SMB, mail authentication).',
);

/** The whole `detect` section. */
export const DetectConfigSchema = Type.Object(
  {
    engine: EngineConfigSchema,
    scan: ScanConfigSchema,
    ddos: DdosConfigSchema,
    bruteForce: BruteForceConfigSchema,
  },
  { additionalProperties: false },
);

/** Resolved detection configuration. */
export type DetectConfig = Static<typeof DetectConfigSchema>;
/** Engine configuration. */
export type EngineConfig = Static<typeof EngineConfigSchema>;
/** Scan detector configuration. */
export type ScanConfig = Static<typeof ScanConfigSchema>;
/** DDoS detector configuration. */
export type DdosConfig = Static<typeof DdosConfigSchema>;
/** Brute-force detector configuration. */
export type BruteForceConfig = Static<typeof BruteForceConfigSchema>;

/** A partial configuration: any section, any subset of its keys. */
export type DetectConfigInput = {
  [K in keyof DetectConfig]?: Partial<DetectConfig[K]> & {
    dedup?: Partial<EngineConfig['dedup']>;
  };
};

/** Fills defaults and validates; throws `ConfigError` naming the first bad key. */
export function resolveDetectConfig(partial: DetectConfigInput = {}): DetectConfig {
  const value = Value.Default(DetectConfigSchema, structuredClone(partial)) as DetectConfig;
  const first = Value.Errors(DetectConfigSchema, value).First();
  if (first) {
    const key = first.path.split('/').filter(Boolean).join('.') || '(root)';
    throw new ConfigError(`detect.${key}`, first.message);
  }
  if (value.scan.theta1 >= value.scan.theta0)
    throw new ConfigError('detect.scan.theta1', 'must be below theta0 (scanners succeed less often)');
  if (value.scan.targetFalsePositive >= value.scan.targetDetection)
    throw new ConfigError('detect.scan.targetFalsePositive', 'must be below targetDetection');
  return value;
}
