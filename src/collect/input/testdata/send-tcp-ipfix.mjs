// Sends three IPFIX messages over one TCP connection to 127.0.0.1:PORT (a local sink), each
// written in pieces with pauses so that the capture shows messages split across segments.
import net from 'node:net';
const port = Number(process.argv[2]);
const be16 = (v) => Buffer.from([(v >> 8) & 255, v & 255]);
const be32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
const ipfix = (seq, body) => Buffer.concat([be16(10), be16(16 + body.length), be32(1700000000), be32(seq), be32(2), body]);
const tset = Buffer.concat([be16(2), be16(12), be16(300), be16(1), be16(1), be16(8)]);
const data = (n) => Buffer.concat([be16(300), be16(4 + 8 * n), Buffer.alloc(8 * n, 7)]);
const stream = Buffer.concat([ipfix(0, tset), ipfix(0, data(100)), ipfix(100, data(3))]);
const sink = net.createServer((c) => c.resume()).listen(port, '127.0.0.1', () => {
  const c = net.connect(port, '127.0.0.1', async () => {
    c.setNoDelay(true);
    for (const cut of [10, 300, 500, stream.length]) {
      c.write(stream.subarray(c.bytesWritten, cut));
      await new Promise((r) => setTimeout(r, 30));
    }
    c.end(() => setTimeout(() => sink.close(), 50));
  });
});
