// Writes the Zeek fixtures of this folder. Zeek is not packaged in Debian, so these files are
// written from the format's documentation (the #fields/#types headers of conn.log and dns.log as
// Zeek documents them, ASCII writer defaults: tab separator, ',' set separator, '(empty)', '-'),
// with values modelled on the same capture: connections come from the Argus epoch CSV given as
// argument (bidirectional pairs merged, IP bytes = Argus bytes minus the 14-byte link header),
// DNS transactions from `tcpdump -tt -nr traffic.pcap port 53`. See README.md.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const conns = [];
const byKey = new Map();
for (const r of rows) {
  const [stime, ltime, dur, proto, sa, sp, dir, da, dp, state, spk, dpk, sby, dby] = r.map((s) => s.trim());
  if (proto === 'man') continue;
  const rev = `${proto}|${da}|${dp}|${sa}|${sp}`;
  const prior = byKey.get(rev);
  if (prior && dir === '->' && proto !== 'icmp') {
    // Argus printed the two directions of this IPv6 conversation as separate flows: merge them.
    prior.rpk += Number(spk);
    prior.rby += Number(sby);
    prior.end = Math.max(prior.end, Number(ltime));
    continue;
  }
  const c = { stime, start: Number(stime), end: Number(ltime), dur: Number(dur), proto, sa, sp, da, dp, state,
    opk: Number(spk), rpk: Number(dpk), oby: Number(sby), rby: Number(dby) };
  byKey.set(`${proto}|${sa}|${sp}|${da}|${dp}`, c);
  conns.push(c);
}

let seed = 7;
function uid() {
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = 'C';
  for (let i = 0; i < 17; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    s += a[seed % a.length];
  }
  return s;
}

const SERVICE = { 53: 'dns', 8080: 'http', 2222: 'ssh' };
const lines = [];
for (const c of conns) {
  const v6 = c.sa.includes(':');
  const ip = v6 ? 40 : 20;
  const proto = c.proto === 'ipv6-icmp' ? 'icmp' : c.proto;
  let op = c.sp;
  let rp = c.dp;
  if (c.proto === 'icmp') {
    const v = parseInt(c.sp, 16);
    op = String(v & 255);
    rp = String(v >> 8);
  } else if (c.proto === 'ipv6-icmp') {
    op = c.sp;
    rp = '0';
  }
  const oip = c.oby - 14 * c.opk;
  const rip = c.rby - 14 * c.rpk;
  const l4 = proto === 'tcp' ? 32 : 8;
  const obytes = Math.max(0, oip - c.opk * (ip + l4));
  const rbytes = Math.max(0, rip - c.rpk * (ip + l4));
  const dur = Math.max(c.dur, c.end - c.start);
  let state = 'OTH';
  let hist = '-';
  if (proto === 'tcp') [state, hist] = c.state === 'RST' ? ['REJ', 'Sr'] : ['SF', 'ShADadFf'];
  else if (proto === 'udp') [state, hist] = c.rpk > 0 ? ['SF', 'Dd'] : ['S0', 'D'];
  lines.push({
    ts: c.stime, uid: uid(), oh: c.sa, op, rh: c.da, rp, proto,
    service: (proto !== 'icmp' && SERVICE[c.dp]) || '-', duration: dur.toFixed(6),
    orig_bytes: proto === 'icmp' && c.rpk === 0 ? '-' : String(obytes), resp_bytes: String(rbytes),
    conn_state: state, history: hist, orig_pkts: c.opk, orig_ip_bytes: oip, resp_pkts: c.rpk, resp_ip_bytes: rip,
  });
}

const CONN_FIELDS = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration',
  'orig_bytes', 'resp_bytes', 'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history', 'orig_pkts',
  'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'tunnel_parents'];
const CONN_TYPES = ['time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval', 'count', 'count',
  'string', 'bool', 'bool', 'count', 'string', 'count', 'count', 'count', 'count', 'set[string]'];
const connRow = (l) => [l.ts, l.uid, l.oh, l.op, l.rh, l.rp, l.proto, l.service, l.duration, l.orig_bytes, l.resp_bytes,
  l.conn_state, '-', '-', '0', l.history, l.orig_pkts, l.orig_ip_bytes, l.resp_pkts, l.resp_ip_bytes, '(empty)'];

function header(path, fields, types, open) {
  return ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', `#path\t${path}`,
    `#open\t${open}`, `#fields\t${fields.join('\t')}`, `#types\t${types.join('\t')}`];
}
const zt = (sec) => new Date(sec * 1000).toISOString().slice(0, 19).replace(/[T:]/g, '-');
const OPEN = zt(Math.floor(conns[0].start));
const CLOSE = zt(Math.ceil(Math.max(...conns.map((c) => c.end))) + 1);
writeFileSync('zeek-conn.log', [...header('conn', CONN_FIELDS, CONN_TYPES, OPEN),
  ...lines.map((l) => connRow(l).join('\t')), `#close\t${CLOSE}`, ''].join('\n'));

// CTU IoT-23 "conn.log.labeled" style: two extra columns whose separators (in the #fields and
// #types lines and in every data line) are three spaces, not tabs, as in the published dataset.
const MAL = new Set(['8081', '9999']);
writeFileSync('zeek-conn-iot23.log.labeled', [
  ...header('conn', CONN_FIELDS, CONN_TYPES, OPEN).map((h) =>
    h.startsWith('#fields') ? h + '   label   detailed-label' : h.startsWith('#types') ? h + '   string   string' : h),
  ...lines.map((l) => connRow(l).join('\t') + (MAL.has(String(l.rp)) ? '   Malicious   PartOfAHorizontalPortScan' : '   Benign   -')),
  ''].join('\n'));

// JSON lines (Zeek's JSON writer: dotted names, unset fields left out, epoch-seconds numbers).
const js = (pairs) => '{' + pairs.filter(([, v]) => v !== undefined).map(([k, v]) => `"${k}":${v}`).join(',') + '}';
const q = (s) => JSON.stringify(s);
writeFileSync('zeek-conn.json', lines.map((l) => js([
  ['ts', l.ts], ['uid', q(l.uid)], ['id.orig_h', q(l.oh)], ['id.orig_p', l.op], ['id.resp_h', q(l.rh)], ['id.resp_p', l.rp],
  ['proto', q(l.proto)], ['service', l.service === '-' ? undefined : q(l.service)], ['duration', l.duration],
  ['orig_bytes', l.orig_bytes === '-' ? undefined : l.orig_bytes], ['resp_bytes', l.resp_bytes], ['conn_state', q(l.conn_state)],
  ['missed_bytes', 0], ['history', l.history === '-' ? undefined : q(l.history)], ['orig_pkts', l.orig_pkts],
  ['orig_ip_bytes', l.orig_ip_bytes], ['resp_pkts', l.resp_pkts], ['resp_ip_bytes', l.resp_ip_bytes],
])).join('\n') + '\n');

// DNS transactions seen in the capture, read from tcpdump's one-line summaries.
const tcpdump = execFileSync('tcpdump', ['-tt', '-nr', 'traffic.pcap', 'port 53'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
const QT = { A: 1, AAAA: 28, MX: 15, TXT: 16 };
const pending = new Map();
const DNS = [];
for (const line of tcpdump.trim().split('\n')) {
  const m = /^(\S+) IP6? (\S+)\.(\d+) > (\S+)\.(\d+): (\d+)(\S*) (.*)$/.exec(line);
  if (!m) continue;
  const [, t, src, sport, dst, dport, id, flags, rest] = m;
  if (dport === '53') {
    const qm = /(\w+)\? (\S+)\. /.exec(rest);
    pending.set(id, { t, c: src, p: Number(sport), r: dst, id: Number(id), name: qm[2], qtn: qm[1], rd: flags.includes('+') });
  } else {
    const q = pending.get(id);
    if (!q) continue;
    const nx = rest.startsWith('NXDomain');
    const am = /^\d+\/\d+\/\d+ (\w+) (.*) \(\d+\)$/.exec(rest);
    let ans = [];
    if (am && !nx) {
      const v = am[2];
      ans = [am[1] === 'TXT' ? `TXT ${JSON.parse(v).length} ${JSON.parse(v)}` : v.split(' ')[0].replace(/\.$/, '')];
    }
    DNS.push([q.t, t, q.c, q.p, q.r, q.id, q.name, QT[q.qtn], q.qtn, nx ? 3 : 0, ans, flags.includes('*'), q.rd]);
  }
}
const uidOf = (h, p) => lines.find((l) => l.oh === h && String(l.op) === String(p))?.uid ?? '-';
const DNS_FIELDS = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'trans_id', 'rtt', 'query',
  'qclass', 'qclass_name', 'qtype', 'qtype_name', 'rcode', 'rcode_name', 'AA', 'TC', 'RD', 'RA', 'Z', 'answers', 'TTLs', 'rejected'];
const DNS_TYPES = ['time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'count', 'interval', 'string', 'count', 'string',
  'count', 'string', 'count', 'string', 'bool', 'bool', 'bool', 'bool', 'count', 'vector[string]', 'vector[interval]', 'bool'];
const RCODE = { 0: 'NOERROR', 3: 'NXDOMAIN' };
const rtt = (a, b) => ((Number(b) - Number(a))).toFixed(6);
writeFileSync('zeek-dns.log', [...header('dns', DNS_FIELDS, DNS_TYPES, OPEN),
  ...DNS.map(([t, t2, c, p, r, id, name, qt, qtn, rc, ans, aa, rd]) => [t, uidOf(c, p), c, p, r, 53, 'udp', id, rtt(t, t2), name, 1,
    'C_INTERNET', qt, qtn, rc, RCODE[rc], aa ? 'T' : 'F', 'F', rd ? 'T' : 'F', 'F', 0, ans.length ? ans.join(',') : '-',
    ans.length ? ans.map(() => '300.000000').join(',') : '-', 'F'].join('\t')),
  `#close\t${CLOSE}`, ''].join('\n'));

// JSON lines with ISO 8601 timestamps (LogAscii::json_timestamps = JSON::TS_ISO8601).
const iso = (t) => new Date(Number(t.split('.')[0]) * 1000).toISOString().slice(0, 19) + '.' + t.split('.')[1] + 'Z';
writeFileSync('zeek-dns.json', DNS.map(([t, t2, c, p, r, id, name, qt, qtn, rc, ans, aa, rd]) => js([
  ['ts', q(iso(t))], ['uid', q(uidOf(c, p))], ['id.orig_h', q(c)], ['id.orig_p', p], ['id.resp_h', q(r)], ['id.resp_p', 53],
  ['proto', q('udp')], ['trans_id', id], ['rtt', rtt(t, t2)], ['query', q(name)], ['qclass', 1], ['qclass_name', q('C_INTERNET')],
  ['qtype', qt], ['qtype_name', q(qtn)], ['rcode', rc], ['rcode_name', q(RCODE[rc])], ['AA', aa], ['TC', false],
  ['RD', rd], ['RA', false], ['Z', 0], ['answers', ans.length ? q(ans) : undefined],
  ['TTLs', ans.length ? q(ans.map(() => 300.0)) : undefined], ['rejected', false],
])).join('\n') + '\n');
