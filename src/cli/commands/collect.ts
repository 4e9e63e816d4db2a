import { type Command, Option } from 'commander';
import { loadAcdConfig } from '../config.ts';
import { UsageError } from '../../common/errors.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { CollectConfigSchema, type CollectConfig } from '../../collect/config.ts';
import type { CollectorStats } from '../../collect/collector.ts';
import { LISTEN_URL_EXAMPLES, parseListenUrl } from '../../collect/input/listen-url.ts';
import { NdjsonWriter, openNdjsonFile, type RecordOutput } from '../../collect/output/ndjson.ts';
import type { CliContext } from '../context.ts';
import { humanCount, RateMeter, StatusLine } from '../status.ts';

/** Options of `acd collect` as commander parses them. */
interface CollectOptions {
  listen?: string[];
  out?: string;
  state?: string;
  queue?: number;
  rcvbuf?: number;
  config?: string;
}

/** How often the status line is recomputed (a terminal sees every update; a pipe one per 10 s). */
/** How often the status line is refreshed. */
export const STATUS_UPDATE_MS = 1000;

function collectRepeatable(value: string, previous: string[] | undefined): string[] {
  parseListenUrl(value); // fail early, naming the URL
  return [...(previous ?? []), value];
}

/** An integer option within the bounds the configuration schema declares for `key`. */
function boundedInt(flag: string, key: 'queueCapacity' | 'recvBufferBytes'): (v: string) => number {
  const schema = CollectConfigSchema.properties[key];
  return (v: string): number => {
    const n = Number(v);
    const min = schema.minimum ?? 0;
    const max = schema.maximum ?? Number.MAX_SAFE_INTEGER;
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new UsageError(`${flag} ${v}: expected an integer between ${min} and ${max}`);
    return n;
  };
}

/**
 * Redraws the collector's status line every `STATUS_UPDATE_MS` (shared by `collect` and `demo`);
 * returns the function that stops it and ends the line.
 */
export function showCollectorStatus(
  ctx: CliContext,
  prefix: string,
  collector: { stats(): CollectorStats },
): () => void {
  const status = new StatusLine({
    stream: ctx.stderr,
    interactive: ctx.interactive,
    clock: ctx.clock,
    prefix,
  });
  const meter = new RateMeter<'records' | 'datagrams'>(ctx.clock);
  meter.sample({ records: 0, datagrams: 0 });
  const timer = setInterval(() => {
    const s = collector.stats();
    status.update(statusText(s, meter.sample({ records: s.records, datagrams: s.datagrams })));
  }, STATUS_UPDATE_MS);
  return () => {
    clearInterval(timer);
    status.done();
  };
}

/**
 * The one-line status: rates since the last update, totals, and what went missing. DNS events
 * (from dnstap) count as records; their own total is shown once there are any, or while a
 * resolver is connected.
 */
export function statusText(s: CollectorStats, rates: { records: number; datagrams: number }): string {
  const dns =
    s.dns > 0 || s.dnstapConnections > 0
      ? ` (${humanCount(s.dns)} dns, ${s.dnstapConnections} dnstap sender${s.dnstapConnections === 1 ? '' : 's'})`
      : '';
  return (
    `${humanCount(rates.records)} records/s, ${humanCount(rates.datagrams)} datagrams/s, ` +
    `${humanCount(s.records)} records${dns}, ${humanCount(s.dropped)} dropped, ` +
    `${humanCount(s.sequenceLost)} lost (sequence), ${s.exporters} exporter${s.exporters === 1 ? '' : 's'}`
  );
}

/** Registers `acd collect`: live NetFlow/IPFIX/sFlow collection over UDP and TCP, dnstap over unix sockets and TCP. */
export function registerCollect(program: Command, ctx: CliContext): void {
  program
    .command('collect')
    .description(
      'collect NetFlow v5/v9, IPFIX and sFlow v5 exports live over UDP, IPFIX over TCP (RFC 7011) and ' +
        'dnstap from resolvers over unix sockets or TCP; decode them and write NDJSON records (the same ' +
        'as `acd decode`) or keep counters only',
    )
    .addOption(
      new Option(
        '-l, --listen <url>',
        `listen URL, repeatable: ${LISTEN_URL_EXAMPLES.join(' or ')}`,
      ).argParser(collectRepeatable),
    )
    .option(
      '-o, --out <file>',
      'append NDJSON records to FILE (`-` for stdout); without it only counters are kept',
    )
    .option(
      '--state <file>',
      'persist template and sampling state in FILE (loaded at start, saved periodically and at stop)',
    )
    .addOption(
      new Option(
        '--queue <n>',
        'messages held between the sockets and the decoder (full queue: UDP drops, counted)',
      ).argParser(boundedInt('--queue', 'queueCapacity')),
    )
    .addOption(
      new Option(
        '--rcvbuf <bytes>',
        'UDP socket receive buffer to request (capped by sysctl net.core.rmem_max)',
      ).argParser(boundedInt('--rcvbuf', 'recvBufferBytes')),
    )
    .option('-c, --config <file>', 'YAML configuration file (its `collect` section); flags override it')
    .addHelpText(
      'after',
      `
Listeners:
  udp://HOST:PORT          NetFlow v5, v9 and IPFIX, one export packet per datagram
  sflow://HOST:PORT        sFlow v5 datagrams (usually port 6343); the same UDP listener as
                           udp:// (every UDP listener recognises the format by content), named
                           for clarity in configurations and status output
  tcp://HOST:PORT          IPFIX over TCP (RFC 7011 section 10.4), many exporters at once
  dnstap+unix:PATH         dnstap (Frame Streams, bidirectional handshake) on a unix socket, as
                           resolvers send it (unbound: dnstap-socket-path; knot-resolver:
                           socket_path). A stale socket file at PATH is replaced; the file is
                           removed at stop. The resolver's user must be able to write to it.
  dnstap+tcp://HOST:PORT   dnstap over TCP (unbound: dnstap-ip with dnstap-tls: no)
  HOST is an IP literal: 0.0.0.0, 127.0.0.1, [::], [2001:db8::1]. Port 0 lets the system choose;
  the bound addresses are printed to stderr when listening starts.

Output:
  NDJSON records go to --out (one JSON object per record with IANA field names, recordType,
  protocol, exporter, observationDomainId, templateId, sequence, exportTime, samplingInterval).
  sFlow samples arrive as protocol "sflow5" (flow and counters records); dnstap messages as
  recordType "dns", protocol "dnstap", exporter = the sender's address or unix:PATH, with the
  dns* fields of docs/collect.md (dnsQueryName, dnsQueryTypeName, dnsResponseCodeName, ...).
  A status line on stderr shows records/s, datagrams/s, DNS events and dnstap senders, drops
  and sequence loss; it is redrawn in place on a terminal and printed every 10 s otherwise. On
  SIGINT/SIGTERM the collector stops listening (closing dnstap connections and removing their
  socket files), decodes what was queued, flushes the output, saves the state, prints a JSON
  summary line ("acd collect: summary {...}") and exits 0.

Examples:
  acd collect --listen udp://0.0.0.0:2055
  acd collect --listen udp://0.0.0.0:2055 --listen udp://[::]:2055 --listen tcp://0.0.0.0:4739 \\
      --out flows.ndjson --state /var/lib/acd/templates.json
  acd collect --listen udp://127.0.0.1:0 --out - | jq .sourceIPv4Address
  acd collect --listen sflow://0.0.0.0:6343 --out samples.ndjson
  acd collect --listen dnstap+unix:/run/acd/dnstap.sock --listen dnstap+tcp://127.0.0.1:6000 \\
      --out dns.ndjson
  acd collect --listen udp://0.0.0.0:2055 --listen sflow://0.0.0.0:6343 \\
      --listen dnstap+unix:/run/acd/dnstap.sock --out - | jq 'select(.recordType == "dns")'
  acd collect --config acd.yaml --rcvbuf 33554432 --queue 262144`,
    )
    .action(async (opts: CollectOptions) => {
      await runCollect(ctx, opts);
    });
}

async function runCollect(ctx: CliContext, opts: CollectOptions): Promise<void> {
  // The whole acd configuration (file sections and ACD_SECTION__KEY overrides, validated as
  // `acd config check` does); collection uses its `collect` section.
  const base: CollectConfig = loadAcdConfig(opts.config === undefined ? {} : { file: opts.config }).collect;
  const config: CollectConfig = {
    ...base,
    listen: opts.listen ?? base.listen,
    ...(opts.queue !== undefined ? { queueCapacity: opts.queue } : {}),
    ...(opts.rcvbuf !== undefined ? { recvBufferBytes: opts.rcvbuf } : {}),
    ...(opts.state !== undefined ? { stateFile: opts.state } : {}),
  };
  if (config.listen.length === 0)
    throw new UsageError(`collect: at least one --listen URL is needed (e.g. ${LISTEN_URL_EXAMPLES[0]})`);

  let output: RecordOutput | undefined;
  if (opts.out === '-') output = new NdjsonWriter(ctx.stdout, { end: false });
  else if (opts.out !== undefined) output = await openNdjsonFile(opts.out);

  // Loaded on demand: the other commands should not pay for (or depend on) the collection stack.
  const { createCollector } = await import('../../collect/collector.ts');
  const metrics = new MetricsRegistry();
  const collector = createCollector(
    { clock: ctx.clock, logger: ctx.logger, metrics },
    {
      ...config,
      ...(output ? { output } : {}),
    },
  );
  try {
    await collector.start();
  } catch (err) {
    await output?.close().catch(() => undefined);
    throw err;
  }
  for (const a of collector.addresses()) ctx.stderr.write(`acd collect: listening on ${a.url}\n`);

  const stopStatus = showCollectorStatus(ctx, 'acd collect: ', collector);

  if (!ctx.signal.aborted)
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  stopStatus();
  ctx.stderr.write('acd collect: stopping (draining the queue, flushing the output, saving state)\n');
  await collector.stop();
  ctx.stderr.write(`acd collect: summary ${JSON.stringify(collector.stats())}\n`);
}
