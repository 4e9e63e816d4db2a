/**
 * DNS abuse: `dga` (an infected client resolving random-looking domains in NXDOMAIN bursts) and
 * `dns-tunnel` (many unique long names under one domain, TXT-heavy). Through the provider's
 * resolver they are DNS events (operator-telemetry); through a foreign resolver they are flows to
 * port 53 abroad (specified-domestic-to-foreign) whose names the centre never sees.
 */
import type { Rng } from '../country/index.ts';
import type { DetectorName, GeneratedRecord } from '../traffic/types.ts';
import { defineScenario } from './define.ts';
import {
  PROTO,
  UDP_HEADER,
  base32Text,
  dnsRecord,
  ephemeralPort,
  flowRecord,
  randomText,
  resolverOf,
  ttlOf,
  type DnsAnswer,
} from './records.ts';
import {
  endpoints,
  eventPart,
  pacedTimes,
  ratePart,
  rngOf,
  type Emit,
  type Env,
  type Part,
  type RecordTruth,
} from './run.ts';
import { c2Domain } from './c2.ts';
import { checkEventCount } from './scans.ts';
import { familyOf } from './world.ts';

/** Which resolver the client uses. */
export type Via = 'operator-resolver' | 'foreign-resolver';

interface Query {
  client: string;
  resolver: string;
  via: Via;
  time: number;
  qname: string;
  qtype: number;
  rcode: number;
  answers: DnsAnswer[];
  txtSizes?: number[];
}

/** Bytes of the answer section entries (name compressed to a pointer). */
function answerBytes(q: Query): number {
  let n = 0;
  let t = 0;
  for (const a of q.answers)
    n +=
      12 +
      (a.type === 16
        ? (q.txtSizes?.[t++] ?? 0) + 1
        : a.type === 1
          ? 4
          : a.type === 28
            ? 16
            : (a.data?.length ?? 0) + 2);
  // NXDOMAIN carries the zone's SOA in the authority section.
  return n + (q.rcode === 3 ? 70 : 0);
}

/** One query: a DNS event at the provider's resolver, or a query and an answer flow abroad. */
function query(env: Env, r: Rng, out: Emit, q: Query): void {
  const rtt = q.rcode === 3 ? r.range(15, 120) : r.range(20, 180);
  const port = ephemeralPort(r);
  if (q.via === 'operator-resolver') {
    out(
      dnsRecord(env, {
        client: q.client,
        resolver: q.resolver,
        clientPort: port,
        time: q.time + rtt,
        rttMs: rtt,
        id: r.int(65536),
        qname: q.qname,
        qtype: q.qtype,
        rcode: q.rcode,
        answers: q.answers,
        txtSizes: q.txtSizes,
      }),
    );
    return;
  }
  const qBytes = UDP_HEADER[familyOf(q.client)] + 12 + q.qname.length + 2 + 4 + 11;
  out(
    flowRecord(env, {
      src: q.client,
      dst: q.resolver,
      sport: port,
      dport: 53,
      proto: PROTO.UDP,
      packets: 1,
      octets: qBytes,
      start: q.time,
      end: q.time,
      ttl: ttlOf(env, q.client),
    }),
  );
  const t = q.time + rtt;
  out(
    flowRecord(env, {
      src: q.resolver,
      dst: q.client,
      sport: 53,
      dport: port,
      proto: PROTO.UDP,
      packets: 1,
      octets: qBytes + answerBytes(q),
      start: t,
      end: t,
      ttl: ttlOf(env, q.resolver),
    }),
  );
}

/** Truth: the client's queries (DNS events or flows to the resolver) are the part; answers are responses. */
function dnsTruth(
  client: string,
  kind: string,
  detectors: DetectorName[],
  c2?: string,
): (r: GeneratedRecord) => RecordTruth {
  return (r) => {
    if (r.kind === 'dns') {
      const answers = Array.isArray(r.fields.dnsAnswers) ? r.fields.dnsAnswers : [];
      const hasC2 =
        c2 !== undefined &&
        answers.some((a) => typeof a === 'object' && a !== null && !Array.isArray(a) && a.data === c2);
      return { kind, detectors, attackers: hasC2 ? [c2] : [], victims: [client] };
    }
    const [s] = endpoints(r);
    return s === client
      ? { kind, detectors, attackers: [], victims: [client] }
      : { kind: `${kind}-responses`, detectors: [], attackers: [], victims: [client] };
  };
}

/** The client's resolver: its provider's, or a foreign one (a public resolver abroad). */
function pickResolver(env: Env, rng: Rng, client: string, via: Via): string {
  return via === 'operator-resolver'
    ? resolverOf(env, client, rng)
    : env.world.pickForeign(rng, familyOf(client), ['dns']);
}

const DGA_TLDS = ['com', 'net', 'org', 'info', 'biz', 'ru', 'top', 'xyz'];

/** A DGA name: 12–20 random letters under a common TLD (seeded per burst, as a date-seeded DGA). */
export function dgaName(rng: Rng): string {
  return `${randomText(rng, rng.range(12, 20))}.${rng.pick(DGA_TLDS)}`;
}

/** Options of a DGA part. */
export interface Dga {
  client: string;
  via: Via;
  resolver: string;
  c2: string;
  burstIntervalMs: number;
  perBurst: number;
  nxShare: number;
  from: number;
  to: number;
  kind: string;
}

/** DGA bursts: `perBurst` names 20–250 ms apart, most NXDOMAIN, the rest resolving to the C2. */
export function dgaPart(env: Env, label: string, o: Dga): Part {
  const rng = rngOf(env, `${label}|times`);
  checkEventCount(((o.to - o.from) / o.burstIntervalMs + 1) * o.perBurst, 'dga');
  const times = pacedTimes(
    rng,
    Math.ceil((o.to - o.from) / o.burstIntervalMs) + 1,
    o.from,
    o.to,
    1000 / o.burstIntervalMs,
  );
  const part = eventPart(env, label, times, o.perBurst * 250 + 1000, (_i, time, r, out) => {
    let t = time;
    for (let q = 0; q < o.perBurst; q++) {
      const qname = dgaName(r);
      const nx = r.chance(o.nxShare);
      query(env, r, out, {
        client: o.client,
        resolver: o.resolver,
        via: o.via,
        time: t,
        qname,
        qtype: 1,
        rcode: nx ? 3 : 0,
        answers: nx ? [] : [{ name: qname, type: 1, ttl: 300, data: o.c2 }],
      });
      t += r.range(20, 250);
    }
  });
  part.describe = dnsTruth(o.client, o.kind, ['dga'], o.c2);
  return part;
}

const VIA_DOC =
  "operator-resolver (DNS events at the client's provider resolver: operator-telemetry) | foreign-resolver (flows to a resolver abroad: specified-domestic-to-foreign).";

export const dga = defineScenario({
  name: 'dga',
  description:
    "An infected client resolves random-looking domains (12–20 letters under common TLDs) in bursts, most answered NXDOMAIN, a few resolving to the C2. Through its provider's resolver: DNS events (operator-telemetry); through a foreign resolver: one query flow and one answer flow per name (specified-domestic-to-foreign / specified-foreign-to-domestic).",
  defaultDurationMs: 30 * 60_000,
  params: [
    { name: 'via', default: 'operator-resolver', description: VIA_DOC },
    { name: 'burstInterval', default: '5m', description: 'Time between bursts (divided by intensity).' },
    { name: 'perBurst', default: 40, description: 'Names resolved per burst.' },
    {
      name: 'nxShare',
      default: 0.95,
      description: 'Share of names answered NXDOMAIN (the rest resolve to the C2).',
    },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const via = x.choice('via', ['operator-resolver', 'foreign-resolver'] as const);
    const client = env.p.sources?.[0] ?? env.world.pickSubscriber(rng);
    const c2 = env.p.targets?.[0] ?? env.world.pickForeign(rng, familyOf(client), ['generic']);
    const resolver = pickResolver(env, rng, client, via);
    return [
      dgaPart(env, 'bursts', {
        client,
        via,
        resolver,
        c2,
        burstIntervalMs: Math.max(1000, x.duration('burstInterval', 1000, 86_400_000) / env.p.intensity),
        perBurst: x.num('perBurst', 1, 10_000, true),
        nxShare: x.num('nxShare', 0, 1),
        from: env.p.start,
        to: env.p.end,
        kind: 'dga',
      }),
    ];
  },
});

export const dnsTunnel = defineScenario({
  name: 'dns-tunnel',
  description:
    "A client tunnels data through DNS: many unique long names (base32 labels of 30–63 characters, a sequence label) under one registrable domain, mostly TXT queries with 100–220-byte TXT answers, the rest CNAME. Through its provider's resolver: DNS events (operator-telemetry); through a foreign resolver: flows to port 53 abroad (specified-domestic-to-foreign).",
  defaultDurationMs: 30 * 60_000,
  params: [
    { name: 'via', default: 'operator-resolver', description: VIA_DOC },
    { name: 'domain', default: '', description: 'Tunnel domain (empty: a generated one).' },
    { name: 'qps', default: 2, description: 'Queries per second (Poisson, × intensity).' },
    { name: 'txtShare', default: 0.8, description: 'Share of TXT queries (the rest CNAME).' },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const via = x.choice('via', ['operator-resolver', 'foreign-resolver'] as const);
    const client = env.p.sources?.[0] ?? env.world.pickSubscriber(rng);
    const domain =
      x.text('domain', /^$|^(?=.{1,120}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/) ||
      c2Domain(rng);
    const resolver = env.p.targets?.[0] ?? pickResolver(env, rng, client, via);
    const qps = x.num('qps', 0.001, 1e6) * env.p.intensity;
    const txtShare = x.num('txtShare', 0, 1);
    const session = randomText(rng, 4, '0123456789abcdef');
    const part = ratePart(env, 'queries', env.p.start, env.p.end, qps, 500, (time, r, out) => {
      const labels = r.range(1, 3);
      const budget = 240 - domain.length - 12;
      const parts: string[] = [];
      let used = 0;
      for (let l = 0; l < labels; l++) {
        const len = Math.min(r.range(30, 63), budget - used - 1);
        if (len < 8) break;
        parts.push(base32Text(r, len));
        used += len + 1;
      }
      const qname = `${parts.join('.')}.${session}${r.int(65536).toString(16)}.${domain}`;
      const txt = r.chance(txtShare);
      const size = r.range(100, 220);
      query(env, r, out, {
        client,
        resolver,
        via,
        time,
        qname,
        qtype: txt ? 16 : 5,
        rcode: 0,
        answers: txt
          ? [{ name: qname, type: 16, ttl: 0 }]
          : [{ name: qname, type: 5, ttl: 0, data: `${base32Text(r, r.range(20, 50))}.${domain}` }],
        txtSizes: txt ? [size] : undefined,
      });
    });
    part.describe = dnsTruth(client, 'dns-tunnel', ['dns-tunnel']);
    return [part];
  },
});
