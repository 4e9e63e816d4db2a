/**
 * A simulated dnstap source (a resolver logging its traffic): each DNS record, given with the
 * field names the dnstap decoder prints, becomes one `Dnstap` protobuf payload (one Frame Streams
 * data frame). Outputs add the framing: a Frame Streams file or a bidirectional connection.
 */
import type { Fields } from '../../common/schema/index.ts';
import { dnstapMessageFromFields, encodeDnstapMessage } from '../encode/dnstap.ts';
import { EncodeError } from '../encode/errors.ts';
import { emptyStats, type EmitMessage, type ExporterConfig, type SimulatedExporter } from './types.ts';

/** Creates a dnstap source. */
export function createDnstapExporter(
  config: ExporterConfig,
  index: number,
  emit: EmitMessage,
): SimulatedExporter {
  const stats = emptyStats();
  return {
    config,
    stats,
    add(rec: Fields, now: number) {
      stats.offered++;
      if (typeof rec.dnsQueryName !== 'string') {
        stats.unexportable++;
        return;
      }
      let bytes: Uint8Array;
      try {
        const m = dnstapMessageFromFields(rec);
        if (m.queryTimeMs === undefined && m.responseTimeMs === undefined) m.queryTimeMs = now;
        if (config.dnstapIdentity !== undefined) m.identity = config.dnstapIdentity;
        if (config.dnstapVersion !== undefined) m.version = config.dnstapVersion;
        bytes = encodeDnstapMessage(m);
      } catch (e) {
        if (!(e instanceof EncodeError)) throw e;
        stats.encodeErrors++;
        return;
      }
      stats.exported++;
      stats.messages++;
      stats.bytes += bytes.length;
      emit({ exporter: config, exporterIndex: index, bytes, timeMs: now, records: 1 });
    },
    flush() {},
    tick() {},
    resetSession() {},
  };
}
