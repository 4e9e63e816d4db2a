/**
 * The `edge` configuration section: what the provider-edge process needs beyond collection
 * (`collect` section) and selection (`select` section): who it is, where its pseudonymisation keys
 * live, which bus it hands selected records to, its spool, the border table and batching.
 * Declared once here (CONVENTIONS habit 8) and documented in docs/configuration.md and docs/edge.md.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration, Section } from '../../common/config.ts';

/** Subject-safe token (transport/bus.ts): provider ids and instance ids become NATS subject tokens. */
const TOKEN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
/** A token or empty (unset). */
const OPTIONAL_TOKEN = '^([A-Za-z0-9][A-Za-z0-9_-]{0,63})?$';

/** Stream names (JetStream): tests and several deployments share a server with their own names. */
const StreamsSchema = Type.Object(
  {
    data: Type.String({
      pattern: TOKEN,
      default: 'ACD_SEL',
      description: 'Stream of selected-record batches.',
    }),
    control: Type.String({
      pattern: TOKEN,
      default: 'ACD_CTL',
      description: 'Stream of control messages (approvals, revocations, re-identification).',
    }),
    stats: Type.String({
      pattern: TOKEN,
      default: 'ACD_STAT',
      description: 'Stream of per-batch selection statistics and health (R-SEL-5).',
    }),
  },
  { additionalProperties: false, default: {}, description: 'JetStream stream names.' },
);

/** The bus the edge publishes to (src/transport). */
const BusSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('jetstream'), Type.Literal('memory')], {
      default: 'jetstream',
      description:
        'jetstream for a real edge; memory only when edge and centre run in one process (acd demo), since nothing outside the process can read it.',
    }),
    servers: Type.Array(Type.String({ pattern: '^(nats|tls)://' }), {
      default: ['nats://127.0.0.1:4222'],
      minItems: 1,
      maxItems: 16,
      description: 'NATS server URLs (nats:// or tls://).',
    }),
    subjectPrefix: Type.String({
      pattern: TOKEN,
      default: 'acd',
      description: 'First token of every subject (acd.sel.<provider>.<partition>, …).',
    }),
    streams: StreamsSchema,
    manageStreams: Type.Boolean({
      default: false,
      description:
        'Create the streams when absent. A production edge leaves this false: its NATS user may only publish its own subjects, and the centre creates the streams.',
    }),
    partitions: Type.Integer({
      minimum: 1,
      maximum: 4096,
      default: 1,
      description:
        'Data partitions (acd.sel.<provider>.<0..n-1>); records are spread by a hash of the pseudonymised source address so one host stays in one partition.',
    }),
    tls: Type.Object(
      {
        caFile: Type.String({
          default: '',
          description: 'CA certificate that verifies the server (empty: system CAs).',
        }),
        certFile: Type.String({
          default: '',
          description: 'Client certificate, when the server requires one.',
        }),
        keyFile: Type.String({ default: '', description: 'Client certificate key (mode 0600).' }),
      },
      { additionalProperties: false, default: {}, description: 'TLS to the NATS servers (tls:// URLs).' },
    ),
    user: Type.String({ default: '', description: 'NATS user of this provider (empty: none).' }),
    passwordFile: Type.String({
      default: '',
      description: 'File holding the NATS password (mode 0600); never put the password in this file.',
    }),
    nkeySeedFile: Type.String({
      default: '',
      description: 'File holding the provider nkey seed (SU…, mode 0600), instead of user/password.',
    }),
    inboxPrefix: Type.String({
      default: '',
      description:
        'Inbox prefix the provider may subscribe to, e.g. _INBOX_<provider> (empty: the client default).',
    }),
    duplicateWindow: Duration({
      default: '1h',
      minimumMs: 1000,
      description:
        'JetStream duplicate window of the data stream, when the edge creates it (see docs/transport.md).',
    }),
    publishTimeout: Duration({
      default: '5s',
      minimumMs: 100,
      description: 'How long a publish waits for the stream acknowledgement before it counts as failed.',
    }),
    reconnectWait: Duration({
      default: '1s',
      minimumMs: 100,
      description: 'Pause between connection attempts (the edge keeps collecting and spooling meanwhile).',
    }),
    maxInFlight: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 32,
      description:
        'Batches published and awaiting acknowledgement; bounds the duplicates a failure can cause.',
    }),
    retryDelay: Duration({
      default: '1s',
      minimumMs: 10,
      description: 'Pause after a failed publish before the spool replays in order.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Bus to the national centre.' },
);

/** The spool of selected batches not yet acknowledged (src/transport/spool). */
const SpoolSchema = Type.Object(
  {
    dir: Type.String({
      default: 'data/edge/spool',
      minLength: 1,
      description: 'Spool directory (mode 0700).',
    }),
    keyFile: Type.String({
      default: 'data/edge/spool.key',
      minLength: 1,
      description: 'Edge key that encrypts the spool at rest (32 bytes, mode 0600).',
    }),
    createKey: Type.Boolean({
      default: true,
      description:
        'Create a random key file (mode 0600) when keyFile does not exist; false refuses to start instead.',
    }),
    maxBytes: Type.Integer({
      minimum: 1_048_576,
      maximum: 1_099_511_627_776,
      default: 1_073_741_824,
      description: 'Bound of the spool; when full, new batches are dropped and counted and an alarm raised.',
    }),
    segmentBytes: Type.Integer({
      minimum: 65_536,
      maximum: 1_073_741_824,
      default: 67_108_864,
      description: 'A segment file is closed and a new one started beyond this size.',
    }),
    flushInterval: Duration({
      default: '200ms',
      minimumMs: 1,
      description:
        'Write and fsync buffered batches at least this often: bounds what SIGKILL or power loss can take.',
    }),
    flushBatches: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 64,
      description: 'Flush as soon as this many batches are buffered.',
    }),
    fsync: Type.Boolean({
      default: true,
      description: 'fsync each flush (false keeps SIGKILL safety but not power-failure safety).',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Encrypted spool of unacknowledged batches.' },
);

/** The pseudonymisation key store (src/select/pseudonymise/keys.ts). */
const KeyStoreSchema = Type.Object(
  {
    dir: Type.String({
      default: 'data/edge/keys',
      minLength: 1,
      description:
        'Directory of the pseudonymisation key epochs (mode 0700, files 0600); created on first run.',
    }),
    epochLifetime: Duration({
      default: '30d',
      minimumMs: 60_000,
      description: 'How long one key epoch pseudonymises new records before the edge rotates to a new one.',
    }),
    retention: Duration({
      default: '730d',
      minimumMs: 0,
      description:
        'How long an ended epoch is kept for re-identification: at least the longest retention of the records it pseudonymised.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Pseudonymisation keys (never leave the edge).' },
);

/** Re-identification at the edge (R-OVS-2; src/cli/edge/reidentification.ts, docs/edge.md). */
const ReidentificationSchema = Type.Object(
  {
    stateFile: Type.String({
      default: 'data/edge/reidentification.json',
      description:
        'Ids of answered re-identification requests, kept until each request expires so that a replay is refused after a restart too (no addresses; mode 0600). Empty: memory only.',
    }),
    indexEntries: Type.Integer({
      minimum: 0,
      maximum: 100_000_000,
      default: 1_000_000,
      description:
        'Pseudonymised endpoints of recently selected records remembered (keyed digests, about 40 bytes each, memory only) so that a request is answered only for a pseudonym the named record really carried; older records are refused. 0 refuses every request.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Signed, dual-authorised re-identification requests; authorisers are select.trustedKeys entries with the reidentification scope.',
  },
);

/** The `edge` section. */
export const EdgeConfigSchema = Section(
  {
    providerId: Type.String({
      pattern: OPTIONAL_TOKEN,
      default: '',
      description:
        'This provider (bus subjects acd.sel.<provider>.*, record ids, provenance). Required by acd edge; every feed must name it.',
    }),
    instanceId: Type.String({
      pattern: TOKEN,
      default: 'edge-1',
      description:
        'This edge instance (part of every batch id); unique per provider, stable across restarts.',
    }),
    keyStore: KeyStoreSchema,
    bus: BusSchema,
    spool: SpoolSchema,
    prefixTableFile: Type.String({
      default: '',
      description:
        'Border/ASN table written by `acd prefixes update` (empty: the packaged registry table). Re-read when it changes.',
    }),
    prefixCacheDir: Type.String({
      default: 'data/cache',
      minLength: 1,
      description: 'Cache of the packaged registry table (parsed once, read in milliseconds afterwards).',
    }),
    batchRecords: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 1000,
      description: 'Selected records per bus message (JetStream costs per message, not per byte).',
    }),
    batchMaxAge: Duration({
      default: '200ms',
      minimumMs: 1,
      description: 'A partly filled batch is sent after this long, so quiet feeds are not held back.',
    }),
    statsInterval: Duration({
      default: '10s',
      minimumMs: 100,
      description:
        'Selection statistics are published with every batch and at least this often when nothing is selected (R-SEL-5).',
    }),
    revocationsDir: Type.String({
      default: 'data/edge/revocations',
      minLength: 1,
      description:
        'Directory of signed revocations (JSON files): dropped in by operators, and where revocations received over the bus are kept so they still apply after a restart (mode 0700).',
    }),
    reidentification: ReidentificationSchema,
    drainTimeout: Duration({
      default: '10s',
      minimumMs: 0,
      description:
        'On SIGTERM, how long the edge waits for the bus to acknowledge what is spooled before it closes.',
    }),
  },
  'The provider edge process (acd edge): identity, keys, bus, spool, border table (docs/edge.md).',
);

/** The loaded `edge` section (durations in milliseconds). */
export type EdgeConfig = Static<typeof EdgeConfigSchema>;
