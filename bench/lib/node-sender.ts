/**
 * Fallback sender of `bench:collect` (used when tcpreplay is unavailable), run as a child process
 * so that its event loop does not share the benchmark's:
 * `node --import tsx node-sender.ts HOST PORT DATA_MESSAGES RECORDS_PER_SECOND`.
 * Prints `{"seconds":S,"cpuSeconds":C}` on stdout when done.
 */
import dgram from 'node:dgram';
import { encodeIpfixStream, RECORDS_PER_MESSAGE } from './ipfix-stream.ts';

const [host = '127.0.0.1', portArg = '0', messagesArg = '0', rateArg = '0'] = process.argv.slice(2);
const { payloads } = encodeIpfixStream(Number(messagesArg));
const sock = dgram.createSocket('udp4');
await new Promise<void>((r) => sock.connect(Number(portArg), host, () => r()));
const perMs = Number(rateArg) / RECORDS_PER_MESSAGE / 1000;
const cpu0 = process.cpuUsage();
const start = performance.now();
let i = 0;
await new Promise<void>((resolve) => {
  // Each turn sends what is due by the clock (bursts when behind, as a busy exporter does); no
  // per-send callback, which would cost more than the send itself.
  const loop = (): void => {
    const due = Math.min(payloads.length, Math.floor((performance.now() - start) * perMs) + 1);
    while (i < due) sock.send(payloads[i++]!);
    if (i >= payloads.length) resolve();
    else setImmediate(loop);
  };
  loop();
});
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpu0);
await new Promise<void>((r) => sock.close(() => r()));
process.stdout.write(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n');
