import { Option, type Command } from 'commander';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { DecodedRecord } from '../../common/schema/index.ts';
import { createDecoderSession } from '../../collect/decode/index.ts';
import type { DecodeEvent } from '../../collect/decode/types.ts';
import { readRecordsFromFiles, type FileSummary, type InputKind } from '../../collect/offline.ts';
import { NdjsonWriter } from '../../collect/output/ndjson.ts';
import { TABLE_HEADER, formatTableRow } from '../../collect/output/table.ts';
import type { CliContext } from '../context.ts';
import { loadAcdConfig } from '../config.ts';
import { AcdError } from '../../common/errors.ts';

/** Exit code when a file could not be read (DESIGN section 7: runtime failure). */
class UnreadableFilesError extends AcdError {
  constructor(files: string[]) {
    super('ERR_FILES_UNREADABLE', `could not read: ${files.join(', ')}`);
  }
}

interface DecodeOptions {
  format: 'ndjson' | 'table';
  inputKind: InputKind;
  config?: string;
}

/** `acd decode [--format ndjson|table] [--input-kind auto|export|traffic] FILE...` */
export function registerDecode(program: Command, ctx: CliContext): void {
  program
    .command('decode')
    .description(
      'decode flow exports (NetFlow v5/v9, IPFIX, sFlow v5) from captures and raw export files, traffic ' +
        'captures (flow meter and DNS), dnstap files and text imports (Zeek, Argus, nfdump CSV), in the ' +
        'given order through one decoder session',
    )
    .argument(
      '<files...>',
      'pcap/pcapng captures, raw export files (as `nc -u -l > file` saves them), text logs',
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['ndjson', 'table']).default('ndjson'),
    )
    .addOption(
      new Option('--input-kind <kind>', 'read captures as flow exports, as traffic, or decide by content')
        .choices(['auto', 'export', 'traffic'])
        .default('auto'),
    )
    .option('--config <file>', 'configuration file (collect.* decoder settings, sampling overrides)')
    .addHelpText(
      'after',
      `
Output: one JSON object per record on stdout with IANA field names, plus recordType (flow|options|
dns|counters), protocol, exporter, observationDomainId, templateId, sequence, exportTime and
samplingInterval; timestamps ISO 8601 UTC. A summary goes to stderr. Formats are recognised by
content, never by file name. All raw export files of one call count as one exporter ("file"), so
templates from an earlier file apply to data in a later one. Exit 0 when every file was read (even
if some records were undecodable: they are counted), 1 naming a file that could not be read.

This is a provider-side diagnostic tool: it prints pre-selection data and never runs inside the
edge or the centre.

Examples:
  acd decode export.pcap                      NDJSON of every flow and options record
  acd decode --format table export.pcap       one line per flow, for people
  acd decode templates.raw data.raw           templates from the first file decode the second
  acd decode conn.log | jq .destinationTransportPort`,
    )
    .action(async (files: string[], opts: DecodeOptions) => {
      const config = loadAcdConfig(opts.config === undefined ? {} : { file: opts.config });
      const metrics = new MetricsRegistry();
      const session = createDecoderSession(
        { clock: ctx.clock, metrics },
        {
          templateTimeoutMs: Number.MAX_SAFE_INTEGER,
          pendingMaxSets: config.collect.pendingMaxSets,
          // Offline, nothing ages while files are read (no tick runs); the final tick at the end of
          // the input is far enough in the future to drop and count whatever still waits.
          pendingMaxAgeMs: 365 * 86_400_000,
          silenceAlarmMs: 0,
          samplingOverrides: config.collect.samplingOverrides,
        },
      );
      const events = new Map<string, number>();
      const onDecodeEvent = (e: DecodeEvent): void => {
        events.set(e.kind, (events.get(e.kind) ?? 0) + 1);
      };
      const writer = new NdjsonWriter(ctx.stdout, { end: false });
      const write =
        opts.format === 'table'
          ? (() => {
              ctx.stdout.write(TABLE_HEADER + '\n');
              return (r: DecodedRecord) => void ctx.stdout.write(formatTableRow(r) + '\n');
            })()
          : (r: DecodedRecord) => writer.write(r);
      const byType: Record<string, number> = {};
      const failed: string[] = [];
      const done: FileSummary[] = [];
      const gen = readRecordsFromFiles(files, {
        session,
        inputKind: opts.inputKind,
        onDecodeEvent,
        onFileDone: (s) => {
          done.push(s);
          if (s.error !== undefined) failed.push(s.path);
        },
      });
      for await (const r of gen) {
        byType[r.recordType] = (byType[r.recordType] ?? 0) + 1;
        write(r);
        if (writer.backpressured) await writer.flush();
      }
      // Data still waiting for a template when the input ends is dropped and counted.
      session.tick(Number.MAX_SAFE_INTEGER, { record: write, event: onDecodeEvent });
      await writer.flush();
      for (const s of done) {
        const what =
          s.error !== undefined
            ? `error: ${s.error}`
            : `${s.records} records from ${s.datagrams} ${s.kind === 'traffic' ? 'packets' : s.kind === 'dnstap' ? 'frames' : s.kind === 'text' ? 'lines' : 'messages'}`;
        ctx.stderr.write(
          `acd decode: ${s.path}: ${s.kind ?? 'unknown'}${s.detail ? ` (${s.detail})` : ''}: ${what}${s.skipped ? `, ${s.skipped} skipped` : ''}\n`,
        );
      }
      const types =
        Object.entries(byType)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ') || 'no records';
      const ev = [...events.entries()]
        .filter(([k]) => !k.startsWith('template-added') && k !== 'clock-offset' && k !== 'sampling-changed')
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      ctx.stderr.write(`acd decode: ${files.length} file(s), ${types}${ev ? `; ${ev}` : ''}\n`);
      if (failed.length > 0) throw new UnreadableFilesError(failed);
    });
}
