// Rearranges `nfdump -o fmt:` output (values of nfdump 1.7.1, '|' separated) into the CSV layout of
// nfdump >= 1.7.5 (`-o 'csv:%ts,%te,%td,%pr,%sa,%sp,%da,%dp,%flg,%ipkt,%ibyt,%opkt,%obyt,%in,%out,%ra'`):
// header names from nfdump's CSV format table, protocol as a number, ICMP destination port as
// type.code, duration in seconds with three decimals. Debian 12 ships only nfdump 1.7.1.
import { readFileSync } from 'node:fs';

const PROTO = { TCP: 6, UDP: 17, ICMP: 1, ICMP6: 58 };
const out = ['firstSeen,lastSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,flags,inPackets,inBytes,outPackets,outBytes,input,output,routerIP'];
for (const line of readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (!line.includes('|')) continue;
  const [ts, te, , pr, sa, sp, da, dp, flg, ipkt, ibyt, opkt, obyt, inIf, outIf, ra] = line.split('|').map((s) => s.trim());
  const proto = PROTO[pr] ?? Number(pr);
  const dur = ((Date.parse(te.replace(' ', 'T') + 'Z') - Date.parse(ts.replace(' ', 'T') + 'Z')) / 1000).toFixed(3);
  const dport = (proto === 1 || proto === 58) && !dp.includes('.') ? `${Number(dp) >> 8}.${Number(dp) & 255}` : dp;
  out.push([ts, te, dur, proto, sa, sp, da, dport, flg, ipkt, ibyt, opkt, obyt, inIf, outIf, ra].join(','));
}
process.stdout.write(out.join('\n') + '\n');
