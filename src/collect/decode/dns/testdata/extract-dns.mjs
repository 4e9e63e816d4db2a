// Extracts the DNS messages of dig-lo.pcap into dig-messages.json (one entry per message, in
// capture order) so the DNS parser tests do not depend on the pcap reader. Run from this folder:
//   node extract-dns.mjs dig-lo.pcap > dig-messages.json
// Handles only what tcpdump wrote here: classic pcap, Ethernet, IPv4/IPv6, UDP and TCP (DNS over
// TCP carries a two-byte length before each message, RFC 1035 section 4.2.2).
import { readFileSync } from 'node:fs';

const buf = readFileSync(process.argv[2]);
const le = buf.readUInt32LE(0) === 0xa1b2c3d4;
const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
const out = [];
const tcpStreams = new Map();
let off = 24;
while (off + 16 <= buf.length) {
  const sec = u32(off);
  const usec = u32(off + 4);
  const incl = u32(off + 8);
  const pkt = buf.subarray(off + 16, off + 16 + incl);
  off += 16 + incl;
  const etherType = pkt.readUInt16BE(12);
  let ip = 14;
  let proto;
  let src;
  let dst;
  if (etherType === 0x0800) {
    proto = pkt[ip + 9];
    src = [...pkt.subarray(ip + 12, ip + 16)].join('.');
    dst = [...pkt.subarray(ip + 16, ip + 20)].join('.');
    ip += (pkt[ip] & 15) * 4;
  } else if (etherType === 0x86dd) {
    proto = pkt[ip + 6];
    src = pkt[ip + 23] === 1 ? '::1' : 'v6';
    dst = pkt[ip + 39] === 1 ? '::1' : 'v6';
    ip += 40;
  } else continue;
  const sport = pkt.readUInt16BE(ip);
  const dport = pkt.readUInt16BE(ip + 2);
  const time = sec * 1000 + Math.floor(usec / 1000);
  const base = { time, src: `${src}:${sport}`, dst: `${dst}:${dport}` };
  if (proto === 17) {
    out.push({ ...base, transport: 'udp', hex: pkt.subarray(ip + 8).toString('hex') });
  } else if (proto === 6) {
    const payload = pkt.subarray(ip + (pkt[ip + 12] >> 4) * 4);
    if (payload.length === 0) continue;
    const key = base.src + '>' + base.dst;
    let acc = Buffer.concat([tcpStreams.get(key) ?? Buffer.alloc(0), payload]);
    while (acc.length >= 2 && acc.length >= 2 + acc.readUInt16BE(0)) {
      const n = acc.readUInt16BE(0);
      out.push({ ...base, transport: 'tcp', hex: acc.subarray(2, 2 + n).toString('hex') });
      acc = acc.subarray(2 + n);
    }
    tcpStreams.set(key, acc);
  }
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
