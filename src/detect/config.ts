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
      1 << 21,
      'First-contact cache: (source, destination, port) entries, 8 bytes each, at most half the budget; oldest replaced.',
    ),
    admitFailures: int(
      1,
      1000,
      2,
      'Failed first contacts of a source within one window before it gets exact state (counted in a count-min sketch until then, then carried over); 1 = at the first.',
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
    cmsDepth: int(
      1,
      16,
      2,
      'Admission count-min sketch depth (failure probability e^\u2212depth; an overcount only admits a destination early, it never raises an alarm).',
    ),
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

/** `beacon` detector parameters. */
export const BeaconConfigSchema = obj(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the detector.' }),
    stateBudgetBytes: int(
      64 * 1024,
      4096 * MiB,
      32 * MiB,
      'Memory budget for the per-pair rings and the admission counter.',
    ),
    keyTtlMs: int(
      60_000,
      7 * 86_400_000,
      7_200_000,
      'Event time after which an idle pair (ring and admission count) is forgotten; longer than the longest period to find.',
    ),
    groupIpv6By64: Type.Boolean({
      default: false,
      description: 'Key the internal IPv6 host by its /64 (subjects then read prefix::/64).',
    }),
    admissionShare: num(0.01, 0.9, 0.25, 'Share of the budget for the admission counter.'),
    admitConnections: int(
      1,
      1000,
      3,
      'Connections a pair needs in the admission counter before it gets a ring (one-off pairs never do).',
    ),
    ringSize: int(8, 256, 32, 'Connection start times and sizes kept per pair (the newest).'),
    minConnections: int(5, 256, 16, 'Connections in the ring before a pair is first judged.'),
    rejudgeEvery: int(
      1,
      256,
      4,
      'After the first judgement, judge again every this many connections (bounds the sorting cost of busy irregular pairs).',
    ),
    minIntervalMs: int(
      0,
      3_600_000,
      1000,
      'Connections starting closer than this to the previous one belong to its burst (not counted).',
    ),
    minPeriodMs: int(
      0,
      86_400_000,
      10_000,
      'Median interval below which a periodic pair is automation (retries, brute force, polling), not a check-in.',
    ),
    maxUdpFlowMs: int(
      1000,
      86_400_000,
      30_000,
      'UDP records longer than this are continuing streams, not check-ins (TCP: only records with SYN count).',
    ),
    intervalMadRef: num(
      0.01,
      10,
      0.6,
      'Interval MAD / median at which the MAD part of the interval score reaches 0.',
    ),
    sizeMadRef: num(0.01, 10, 0.2, 'Size MAD / median at which the MAD part of the size score reaches 0.'),
    sizeTolerance: num(
      0.01,
      1,
      0.15,
      'Size concentration: share of sizes within median × (1 ± this); multiplies the size MAD part (MAD ignores outliers).',
    ),
    skewWeight: num(
      0,
      1,
      0.2,
      'Weight of the quartile skew (vs. the MAD) within the interval and size scores; skew is noisy on few samples.',
    ),
    histogramTolerance: num(
      0.01,
      1,
      0.35,
      'Histogram concentration: share of intervals within median \u00d7 (1 \u00b1 this).',
    ),
    persistenceBucketMs: int(
      60_000,
      86_400_000,
      3_600_000,
      'Persistence: buckets (hours) with activity / buckets spanned (last 32).',
    ),
    weightInterval: num(0, 1, 0.3, 'Weight of interval regularity in the score.'),
    weightSize: num(0, 1, 0.3, 'Weight of size regularity in the score.'),
    weightHistogram: num(0, 1, 0.25, 'Weight of histogram concentration in the score.'),
    weightPersistence: num(0, 1, 0.15, 'Weight of persistence in the score.'),
    minScore: num(0, 1, 0.75, 'Score at or above which a pair is a beacon (severity medium) …'),
    minSizeScore: num(
      0,
      1,
      0.5,
      '… with a size score at least this (periodic pairs of irregular sizes are keep-alives/pollers).',
    ),
    highScore: num(0, 1, 0.9, 'Score for severity high (with highMinBuckets active buckets).'),
    highMinBuckets: int(1, 32, 3, 'Active persistence buckets (hours) needed for severity high.'),
    reportWindowMs: int(
      60_000,
      7 * 86_400_000,
      3_600_000,
      'At most one evidence per pair per window of this length.',
    ),
    dns: Type.Boolean({
      default: true,
      description: 'Also score DNS queries per (client, registrable domain) as pairs.',
    }),
    maxRecordIds: int(0, 1000, 8, 'Record ids kept per evidence.'),
  },
  'Beacon detector (periodic check-ins of an internal host to one counterpart).',
);

/** `long-connection` detector parameters. */
export const LongConnectionConfigSchema = obj(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the detector.' }),
    stateBudgetBytes: int(64 * 1024, 4096 * MiB, 8 * MiB, 'Memory budget for per-connection state.'),
    keyTtlMs: int(
      10_000,
      86_400_000,
      900_000,
      'Event time after which a connection without a new export is forgotten (above the exporters\u2019 active timeout).',
    ),
    minRecordDurationMs: int(
      1000,
      86_400_000,
      20_000,
      'Only records at least this long take state (active-timeout segments of long flows, not short sessions).',
    ),
    minDurationMs: int(
      60_000,
      30 * 86_400_000,
      3_600_000,
      'Accumulated duration that makes a long connection.',
    ),
    highDurationMs: int(60_000, 30 * 86_400_000, 28_800_000, 'Duration for severity high.'),
    maxBytesPerSecond: num(
      1,
      1e12,
      20_000,
      'Mean rate (both directions) above which the connection is a bulk transfer or stream, not a quiet channel.',
    ),
    maxRateCv: num(0, 100, 1.5, 'Largest coefficient of variation of the per-export upload rate (steady).'),
    tunnelPorts: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
      default: [500, 1194, 1701, 1723, 4500, 51820],
      description:
        'VPN/tunnel service ports (IKE, OpenVPN, L2TP, PPTP, IPsec NAT-T, WireGuard): long by design.',
    }),
    reportBenign: Type.Boolean({
      default: true,
      description:
        'Emit low-severity evidence for long connections judged benign (tunnel port, bulk, unsteady).',
    }),
    maxRecordIds: int(0, 1000, 8, 'Record ids kept per evidence.'),
  },
  'Long-connection detector (one connection open for hours at a low, steady rate).',
);

/** `exfiltration` detector parameters. */
export const ExfiltrationConfigSchema = obj(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the detector.' }),
    windowMs: int(60_000, 86_400_000, 3_600_000, 'Tumbling window of the upload sums and the baseline.'),
    stateBudgetBytes: int(
      64 * 1024,
      4096 * MiB,
      16 * MiB,
      'Memory budget: half for (host, destination) sums, half for host baselines.',
    ),
    baselineTtlMs: int(
      3_600_000,
      90 * 86_400_000,
      7 * 86_400_000,
      'Event time after which an idle host\u2019s baseline is dropped.',
    ),
    groupIpv6By64: Type.Boolean({ default: true, description: 'Key internal IPv6 hosts by their /64.' }),
    minRecordBytes: num(
      1,
      1e12,
      1e6,
      'An upload record of at least this many bytes opens (host, destination) state.',
    ),
    minCountedRecordBytes: num(
      0,
      1e12,
      65_536,
      'Records below this size are ignored (cheap filter); larger ones add to open pairs.',
    ),
    minBytes: num(1, 1e15, 500e6, 'Cold-start floor: bytes uploaded to one destination in one window.'),
    minUploadRatio: num(1, 1e9, 4, 'Uploaded / downloaded bytes of the pair at least (asymmetry).'),
    baselineAlpha: num(0.0001, 1, 0.1, 'EWMA weight of one closed host-window in the baseline.'),
    baselineDeviations: num(
      1,
      100,
      6,
      'Threshold = max(minBytes, mean + k \u00b7 standard deviation) once warm.',
    ),
    warmupWindows: int(1, 100_000, 24, 'Closed host-windows with uploads before the baseline counts.'),
    highFactor: num(1, 1000, 4, 'Severity high when the upload reaches this multiple of the threshold.'),
    cloudAsns: Type.Array(Type.Integer({ minimum: 1, maximum: 4294967295 }), {
      default: [
        16509, 14618, 8987, 15169, 396982, 19527, 8075, 8068, 8069, 13335, 20940, 16625, 31898, 45102,
      ],
      description:
        'Cloud/CDN networks (Amazon, Google, Microsoft, Cloudflare, Akamai, Oracle, Alibaba): backup destinations.',
    }),
    backupUtcOffsetHours: num(-12, 14, 9, 'UTC offset of the local time of the backup window.'),
    backupFromHour: int(0, 23, 0, 'Local hour at which the nightly backup window opens.'),
    backupToHour: int(0, 24, 6, 'Local hour at which it closes (exclusive).'),
    maxRecordIds: int(0, 1000, 8, 'Record ids kept per evidence.'),
  },
  'Exfiltration detector (bulk uploads to one destination against per-host baselines).',
);

/** `dga` detector parameters. */
export const DgaConfigSchema = obj(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the detector.' }),
    windowMs: int(
      1000,
      3_600_000,
      120_000,
      'Tumbling window over which a client\u2019s DNS responses (NXDOMAIN, high-score names) are counted.',
    ),
    stateBudgetBytes: int(
      64 * 1024,
      4096 * MiB,
      16 * MiB,
      'Memory budget for per-client state, per-(client, resolver) flow state and the distinct-name cache.',
    ),
    keyTtlMs: int(
      1000,
      86_400_000,
      1_800_000,
      'Event time after which an idle client\u2019s (or client\u2013resolver pair\u2019s) state is dropped.',
    ),
    groupIpv6By64: Type.Boolean({ default: true, description: 'Key IPv6 clients by their /64.' }),
    minLabelLength: int(
      3,
      63,
      7,
      'Registrable labels shorter than this score 0 (too few characters to judge).',
    ),
    minScore: num(0, 1, 0.7, 'Character-model score (0..1) from which a name counts as DGA-like.'),
    minDgaNames: int(
      1,
      1_000_000,
      8,
      'Cold-start floor: distinct DGA-like registrable domains a client queries in one window.',
    ),
    minNxdomain: int(
      1,
      1_000_000,
      10,
      'Cold-start floor: NXDOMAIN responses to one client in one window (learned threshold once warm).',
    ),
    baselineAlpha: num(
      0.0001,
      1,
      0.05,
      'EWMA weight of one closed client-window in the learned NXDOMAIN baseline.',
    ),
    baselineDeviations: num(
      1,
      100,
      6,
      'NXDOMAIN threshold = max(minNxdomain, mean + k \u00b7 deviation) once warm.',
    ),
    warmupWindows: int(1, 1_000_000, 50, 'Closed client-windows before the learned baseline counts.'),
    flowEnabled: Type.Boolean({
      default: true,
      description:
        'Flow-level heuristic for clients of a resolver whose names are not visible (UDP/53 flows only).',
    }),
    flowWindowMs: int(
      1000,
      600_000,
      60_000,
      'Tumbling window of the flow-level heuristic (divided into 32 activity slots).',
    ),
    flowMinQueries: int(
      2,
      1_000_000,
      20,
      'Query flows from one client to one resolver in a window that make a burst.',
    ),
    flowMaxActiveShare: num(
      0.01,
      1,
      0.25,
      'A burst occupies at most this share of the window\u2019s 32 slots (steady query streams are not bursts).',
    ),
    flowMinBursts: int(
      1,
      1000,
      3,
      'Bursts of one client\u2013resolver pair (within keyTtlMs) from which flow-level evidence is medium, not low.',
    ),
    maxRecordIds: int(0, 1000, 8, 'Record ids kept per evidence.'),
  },
  'DGA detector (character n-gram model over the registrable label; NXDOMAIN bursts; UDP/53 bursts).',
);

/** `dns-tunnel` detector parameters. */
export const DnsTunnelConfigSchema = obj(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the detector.' }),
    windowMs: int(
      1000,
      3_600_000,
      120_000,
      'Tumbling window over which a client\u2019s queries under one registrable domain are summarised.',
    ),
    stateBudgetBytes: int(
      64 * 1024,
      4096 * MiB,
      32 * MiB,
      'Memory budget for per-(client, domain) state with its distinct-subdomain sketch and per-(client, resolver) flow state.',
    ),
    keyTtlMs: int(
      1000,
      86_400_000,
      1_800_000,
      'Event time after which an idle (client, domain) or (client, resolver) state is dropped.',
    ),
    groupIpv6By64: Type.Boolean({ default: true, description: 'Key IPv6 clients by their /64.' }),
    hllPrecision: int(
      4,
      12,
      6,
      'HyperLogLog precision for distinct subdomains per (client, domain) (2^p bytes, error \u2248 1.04/\u221a2^p).',
    ),
    minUniqueSubdomains: int(
      2,
      1_000_000,
      30,
      'Distinct names under one registrable domain from one client in a window.',
    ),
    minMeanSubdomainLength: num(
      1,
      253,
      24,
      'Mean length of the part left of the registrable domain (characters) that marks encoded data \u2026',
    ),
    minMeanEntropy: num(
      0,
      6,
      3.8,
      '\u2026 or mean character entropy of that part (bits per character) \u2026',
    ),
    minNxShare: num(0, 1, 0.5, '\u2026 or share of NXDOMAIN answers (random-subdomain bursts).'),
    highTxtShare: num(0, 1, 0.5, 'Share of TXT/NULL queries that, with a hit, raises severity to high.'),
    highWindows: int(
      1,
      1_000_000,
      3,
      'Windows flagged for the same pair (within keyTtlMs) from which severity is high (a sustained tunnel).',
    ),
    flowEnabled: Type.Boolean({
      default: true,
      description:
        'Flow-level heuristic for clients of a resolver whose names are not visible (UDP/53 flows only).',
    }),
    flowWindowMs: int(1000, 600_000, 60_000, 'Tumbling window of the flow-level heuristic.'),
    flowMinQueries: int(
      2,
      1_000_000,
      30,
      'Query flows from one client to one resolver in a window (sustained volume).',
    ),
    flowMinMeanQueryBytes: num(
      40,
      65_535,
      130,
      'Mean size of those queries on the wire (IP + UDP + DNS bytes): long names carry data.',
    ),
    maxRecordIds: int(0, 1000, 8, 'Record ids kept per evidence.'),
  },
  'DNS tunnel detector (unique subdomains, label length, entropy, TXT volume; UDP/53 volume).',
);

/** `indicator` detector parameters. */
export const IndicatorConfigSchema = obj(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Run the detector (only when an indicator set is given).',
    }),
    windowMs: int(
      1000,
      86_400_000,
      300_000,
      'Tumbling window: one evidence per (subject, indicator) per window.',
    ),
    stateBudgetBytes: int(
      64 * 1024,
      4096 * MiB,
      8 * MiB,
      'Memory budget for per-(subject, indicator) window state (the indicator tables are sized by the set).',
    ),
    keyTtlMs: int(
      1000,
      86_400_000,
      1_800_000,
      'Event time after which an idle (subject, indicator) state is dropped.',
    ),
    groupIpv6By64: Type.Boolean({
      default: false,
      description: 'Key IPv6 subjects by their /64 (off: the matching host itself).',
    }),
    matchDnsAnswers: Type.Boolean({
      default: true,
      description: 'Also match the addresses and CNAME targets in DNS answers, not only query names.',
    }),
    highConfidence: int(0, 100, 80, 'Indicator confidence (0..100) from which evidence is high.'),
    mediumConfidence: int(0, 100, 50, 'Indicator confidence from which evidence is medium (below: low).'),
    maxRecordIds: int(0, 1000, 8, 'Record ids kept per evidence.'),
  },
  'Indicator detector (listed addresses, CIDRs and domains; expiry by valid_until).',
);

/** The whole `detect` section. */
export const DetectConfigSchema = Type.Object(
  {
    engine: EngineConfigSchema,
    scan: ScanConfigSchema,
    ddos: DdosConfigSchema,
    bruteForce: BruteForceConfigSchema,
    dga: DgaConfigSchema,
    dnsTunnel: DnsTunnelConfigSchema,
    indicator: IndicatorConfigSchema,
    beacon: BeaconConfigSchema,
    longConnection: LongConnectionConfigSchema,
    exfiltration: ExfiltrationConfigSchema,
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
/** DGA detector configuration. */
export type DgaConfig = Static<typeof DgaConfigSchema>;
/** DNS tunnel detector configuration. */
export type DnsTunnelConfig = Static<typeof DnsTunnelConfigSchema>;
/** Indicator detector configuration. */
export type IndicatorConfig = Static<typeof IndicatorConfigSchema>;
/** Beacon detector configuration. */
export type BeaconConfig = Static<typeof BeaconConfigSchema>;
/** Long-connection detector configuration. */
export type LongConnectionConfig = Static<typeof LongConnectionConfigSchema>;
/** Exfiltration detector configuration. */
export type ExfiltrationConfig = Static<typeof ExfiltrationConfigSchema>;

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
  if (value.indicator.mediumConfidence > value.indicator.highConfidence)
    throw new ConfigError('detect.indicator.mediumConfidence', 'must not exceed highConfidence');
  if (value.scan.targetFalsePositive >= value.scan.targetDetection)
    throw new ConfigError('detect.scan.targetFalsePositive', 'must be below targetDetection');
  return value;
}
