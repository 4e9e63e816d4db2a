import { Option, type Command } from 'commander';
import { MetricsRegistry } from '../../common/metrics.ts';
import { UsageError } from '../../common/errors.ts';
import { parseDuration } from '../../common/config.ts';
import type { CliContext } from '../context.ts';
import { showCollectorStatus } from './collect.ts';
import { loadAcdConfig } from '../config.ts';

interface DemoOptions {
  rate: string;
  duration?: string;
}

/** The exporters of the interim demo: one per simulated provider, each speaking another protocol. */
const DEMO_EXPORTERS = [
  { address: '127.0.0.2', format: 'ipfix', observationDomainId: 1 },
  { address: '127.0.0.3', format: 'netflow9', observationDomainId: 2 },
  { address: '127.0.0.4', format: 'netflow5', observationDomainId: 3 },
] as const;

/**
 * `acd demo`: what `npm start` runs. Until the national-centre components land, it is a live
 * collection on loopback fed by a built-in sender (three providers' exporters over real UDP).
 */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      "run the live demo: built-in exporters send NetFlow/IPFIX over UDP to acd's collector on loopback",
    )
    .addOption(
      new Option('--rate <flows/s>', 'total flow records per second sent by the exporters').default('3000'),
    )
    .option('--duration <d>', 'stop after this long (e.g. 30s); default: until Ctrl-C')
    .addHelpText(
      'after',
      `
The demo starts acd's collector on 127.0.0.1 (UDP, ports chosen by the system) and three simulated
providers' exporters, each sending from its own loopback address: 127.0.0.2 (IPFIX), 127.0.0.3
(NetFlow v9) and 127.0.0.4 (NetFlow v5). The status line shows records/s, datagrams/s, queue drops
and loss measured from the exporters' sequence numbers. Ctrl-C stops it cleanly.

Examples:
  npm start                      the same as acd demo
  acd demo --rate 20000          a heavier stream
  acd demo --duration 30s        stop by itself after 30 seconds`,
    )
    .action(async (opts: DemoOptions) => {
      const rate = Number(opts.rate);
      if (!Number.isFinite(rate) || rate <= 0 || rate > 1_000_000)
        throw new UsageError(
          `demo: --rate must be a number of flows per second in 1..1000000, got ${opts.rate}`,
        );
      const durationMs = opts.duration === undefined ? undefined : parseDuration(opts.duration);
      if (opts.duration !== undefined && durationMs === undefined)
        throw new UsageError(`demo: --duration must be a duration such as 30s or 5m, got ${opts.duration}`);
      const config = loadAcdConfig();
      const { createCollector } = await import('../../collect/collector.ts');
      const { createDemoSender } = await import('../../simulate/demo-sender.ts');
      const metrics = new MetricsRegistry();
      const collector = createCollector(
        { clock: ctx.clock, logger: ctx.logger, metrics },
        { ...config.collect, listen: ['udp://127.0.0.1:0'] },
      );
      await collector.start();
      const udp = collector.addresses()[0]!;
      const sender = createDemoSender(
        { clock: ctx.clock },
        {
          target: { host: udp.address, port: udp.port },
          exporters: DEMO_EXPORTERS.map((e) => ({ ...e, rate: rate / DEMO_EXPORTERS.length })),
        },
      );
      try {
        await sender.start();
      } catch (err) {
        await collector.stop();
        throw err;
      }
      ctx.stderr.write(
        `acd demo: collector listening on ${udp.url}; exporters ${DEMO_EXPORTERS.map((e) => `${e.address} (${e.format})`).join(', ')} sending ${rate} flows/s\n` +
          'acd demo: the national-centre dashboard is not part of this build yet; Ctrl-C stops\n',
      );
      const stopStatus = showCollectorStatus(ctx, 'acd demo: ', collector);
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) return resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        if (durationMs !== undefined) setTimeout(resolve, durationMs).unref();
      });
      stopStatus();
      await sender.stop();
      await collector.stop();
      const s = collector.stats();
      const sent = sender.stats();
      ctx.stderr.write(
        `acd demo: sent ${sent.records} records in ${sent.datagrams} datagrams; collected ${s.flows} flows from ${s.exporters} exporters; queue drops ${s.dropped}; sequence loss ${s.sequenceLost}\n`,
      );
    });
}
