import dgram from 'node:dgram';
const port = Number(process.argv[2]);
const s = dgram.createSocket('udp4');
const be16 = (v) => Buffer.from([(v >> 8) & 255, v & 255]);
const be32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
const ip = (a) => Buffer.from(a.split('.').map(Number));
// IPFIX: template 256 = sourceIPv4Address(8)/4, destinationIPv4Address(12)/4, octetDeltaCount(1)/8
const tset = Buffer.concat([be16(2), be16(4 + 4 + 12), be16(256), be16(3), be16(8), be16(4), be16(12), be16(4), be16(1), be16(8)]);
const rec = Buffer.concat([ip('10.1.2.3'), ip('192.0.2.80'), Buffer.from([0,0,0,0,0,0,0x05,0xdc])]);
const dset = Buffer.concat([be16(256), be16(4 + rec.length), rec]);
const ipfix = (seq, body) => Buffer.concat([be16(10), be16(16 + body.length), be32(1700000000), be32(seq), be32(1), body]);
// NetFlow v5 with one record
const v5rec = Buffer.concat([ip('10.1.2.3'), ip('192.0.2.80'), ip('0.0.0.0'), be16(1), be16(2), be32(3), be32(1500), be32(1000), be32(2000), be16(40000), be16(443), Buffer.from([0, 0x18, 6, 0]), be16(0), be16(0), Buffer.from([24, 24]), be16(0)]);
const v5 = Buffer.concat([be16(5), be16(1), be32(123456), be32(1700000000), be32(0), be32(0), Buffer.from([0, 0]), be16(0), v5rec]);
const msgs = [ipfix(0, tset), ipfix(0, dset), v5, Buffer.from('not a flow export\n'), ipfix(1, Buffer.concat([tset, dset]))];
let i = 0;
const next = () => {
  if (i >= msgs.length) { s.close(); return; }
  s.send(msgs[i++], port, '127.0.0.1', () => setTimeout(next, 20));
};
next();
