import { Type, type Static } from '@sinclair/typebox';
import { Duration, Section } from '../common/config.ts';

/** The `collect` section: listeners, queueing and decoder-session settings. */
export const CollectConfigSchema = Section(
  {
    listen: Type.Array(Type.String({ pattern: '^((udp|tcp|sflow|dnstap\\+tcp)://|dnstap\\+unix:)' }), {
      default: [],
      maxItems: 64,
      description:
        'Listener URLs: udp://HOST:PORT for NetFlow/IPFIX over UDP, tcp://HOST:PORT for IPFIX over TCP, sflow://HOST:PORT for sFlow v5 over UDP, dnstap+unix:PATH and dnstap+tcp://HOST:PORT for dnstap (Frame Streams, bidirectional).',
    }),
    queueCapacity: Type.Integer({
      minimum: 64,
      maximum: 4_000_000,
      default: 65_536,
      description:
        'Datagrams held between the sockets and the decoder; when full, UDP datagrams are dropped and counted.',
    }),
    recvBufferBytes: Type.Integer({
      minimum: 65_536,
      maximum: 1_073_741_824,
      default: 33_554_432,
      description:
        'Requested UDP socket receive buffer; the kernel caps it at net.core.rmem_max (a warning names the sysctl).',
    }),
    udpReader: Type.Union([Type.Literal('auto'), Type.Literal('native'), Type.Literal('dgram')], {
      default: 'auto',
      description:
        'What reads UDP sockets: native (a recvmmsg thread per socket filling a ring, Linux, built by npm install), dgram (Node sockets) or auto (native when it loads, else dgram with a warning).',
    }),
    udpRingBytes: Type.Integer({
      minimum: 1_048_576,
      maximum: 1_073_741_824,
      multipleOf: 8,
      default: 67_108_864,
      description:
        'Native UDP reader: ring between its thread and the decoder, per socket (a multiple of 8); holds the traffic that arrives while the event loop pauses (when full, datagrams are dropped and counted).',
    }),
    tcpMaxConnections: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 512,
      description: 'Concurrent IPFIX-over-TCP exporter connections accepted per listener.',
    }),
    tcpIdleTimeout: Duration({
      default: '10m',
      description: 'An IPFIX-over-TCP connection silent for this long is closed.',
      minimumMs: 1000,
    }),
    templateTimeout: Duration({
      default: '30m',
      description:
        'Templates not refreshed for this long are forgotten (RFC 7011 leaves the lifetime to the collector).',
      minimumMs: 1000,
    }),
    pendingMaxSets: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 4096,
      description:
        'Data sets held while their template is unknown, decoded when it arrives (oldest dropped first).',
    }),
    pendingMaxAge: Duration({
      default: '5m',
      description: 'How long a data set waits for its template before it is dropped and counted.',
    }),
    silenceAlarm: Duration({
      default: '5m',
      description: 'An exporter silent for this long raises an alarm; 0 disables.',
    }),
    samplingOverrides: Type.Record(Type.String(), Type.Integer({ minimum: 1, maximum: 4_294_967_295 }), {
      default: {},
      description:
        'Sampling interval per exporter address, for exporters that sample without saying so (used only when the export carries no sampling information).',
    }),
    stateFile: Type.String({
      default: '',
      description: 'File where template and sampling state persist across restarts (empty: not persisted).',
    }),
    stateSaveInterval: Duration({
      default: '30s',
      description: 'How often the template state is saved.',
      minimumMs: 1000,
    }),
  },
  'Flow-export and DNS collection (NetFlow v5/v9, IPFIX, sFlow v5, dnstap).',
);

/** The loaded `collect` section (durations in milliseconds). */
export type CollectConfig = Static<typeof CollectConfigSchema>;
