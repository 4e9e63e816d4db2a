/**
 * `ioc-contact`: domestic hosts contact addresses, CIDR members and domains of the indicator set —
 * HTTPS connections to the addresses, DNS lookups (and then connections) for the domains.
 */
import type { Rng } from '../country/index.ts';
import type { IndicatorEntry } from '../traffic/types.ts';
import { ScenarioModelError } from './errors.ts';
import { defineScenario } from './define.ts';
import { indicatorMatches, indicatorValid } from './indicators.ts';
import { PROTO, TCP_SESSION, dnsRecord, ephemeralPort, flowRecord, resolverOf, ttlOf } from './records.ts';
import { around, endpoints, eventPart, pacedTimes, rngOf, type Emit, type Env } from './run.ts';
import { checkEventCount } from './scans.ts';
import { familyOf } from './world.ts';
import { formatIpv4, formatIpv6BigInt, parsePrefix } from '../../common/prefixes/index.ts';

/** An address inside a CIDR indicator (not its first or last address when there is room). */
function memberOf(rng: Rng, cidr: string): string {
  const p = parsePrefix(cidr);
  const size = p.last - p.first + 1n;
  const v = p.first + (size > 2n ? 1n + rng.bigint(size - 2n) : 0n);
  return p.version === 4 ? formatIpv4(Number(v)) : formatIpv6BigInt(v);
}

/** A short HTTPS session between a host and a foreign address (both directions). */
function https(env: Env, r: Rng, out: Emit, host: string, peer: string, time: number): void {
  const sport = ephemeralPort(r);
  const d = r.range(200, 3000);
  const pk = r.range(8, 40);
  out(
    flowRecord(env, {
      src: host,
      dst: peer,
      sport,
      dport: 443,
      proto: PROTO.TCP,
      packets: pk,
      octets: around(r, pk * 120, 0.3, pk * 40),
      start: time,
      end: time + d,
      flags: TCP_SESSION,
      ttl: ttlOf(env, host),
    }),
  );
  out(
    flowRecord(env, {
      src: peer,
      dst: host,
      sport: 443,
      dport: sport,
      proto: PROTO.TCP,
      packets: pk,
      octets: around(r, pk * 900, 0.3, pk * 40),
      start: time + 40,
      end: time + d - 20,
      flags: TCP_SESSION,
      ttl: ttlOf(env, peer),
    }),
  );
}

export const iocContact = defineScenario({
  name: 'ioc-contact',
  description:
    "Domestic hosts contact entries of the indicator set: HTTPS connections to listed addresses and to members of listed CIDRs (specified-domestic-to-foreign), and lookups of listed domains (or their www. names) at their provider's resolver (DNS events: operator-telemetry) followed by a connection to the answer. Expired indicators are not used.",
  defaultDurationMs: 30 * 60_000,
  params: [
    {
      name: 'hosts',
      default: 3,
      description: 'Domestic IPv4 subscribers making contact (when `sources` is not given).',
    },
    { name: 'contacts', default: 6, description: 'Contacts per host over the window (× intensity).' },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const n = x.num('hosts', 1, 10_000, true);
    const perHost = checkEventCount(x.num('contacts', 1, 1e6) * env.p.intensity, 'ioc-contact');
    const hosts =
      env.p.sources ??
      [...new Set(Array.from({ length: n * 3 }, () => env.world.pickSubscriber(rng)))].slice(0, n);
    const list: IndicatorEntry[] = env.p.targets
      ? env.p.targets.map((t) => ({
          value: t,
          type: familyOf(t) === 4 ? 'ipv4' : 'ipv6',
          source: 'targets',
          confidence: 100,
        }))
      : env.ctx.indicators;
    const usable = (fam: 4 | 6, t: number): IndicatorEntry[] =>
      list.filter(
        (e) => indicatorValid(e, t) && (e.type === 'domain' || familyOf(e.value.split('/')[0]!) === fam),
      );
    if (hosts.every((h) => usable(familyOf(h), env.p.start).length === 0))
      throw new ScenarioModelError(
        'ioc-contact: no usable indicator (give --indicators, or let the generator write one)',
      );
    // Where a listed domain resolves: a foreign host fixed per domain.
    const resolved = (domain: string, fam: 4 | 6): string =>
      env.world.pickForeign(env.ctx.rng.fork(`${env.key}|resolve|${domain}`), fam, ['generic', 'web']);
    const parts = hosts.map((host, h) => {
      const fam = familyOf(host);
      const times = pacedTimes(
        rngOf(env, `contacts-${h}|times`),
        Math.ceil(perHost),
        env.p.start,
        env.p.end,
        (perHost * 1000) / env.p.durationMs,
      );
      const part = eventPart(env, `contacts-${h}`, times, 4000, (i, time, r, out) => {
        const cands = usable(fam, time);
        if (cands.length === 0) return;
        // Cycle through the entries so that every kind of indicator gets used.
        const e = cands[(i + h) % cands.length]!;
        if (e.type === 'domain') {
          const name = r.chance(0.5) ? e.value : `www.${e.value}`;
          const ip = resolved(e.value, fam);
          const rtt = r.range(5, 120);
          const resolver = resolverOf(env, host, r);
          out(
            dnsRecord(env, {
              client: host,
              resolver,
              clientPort: ephemeralPort(r),
              time: time + rtt,
              rttMs: rtt,
              id: r.int(65536),
              qname: name,
              qtype: fam === 4 ? 1 : 28,
              rcode: 0,
              answers: [{ name, type: fam === 4 ? 1 : 28, ttl: 300, data: ip }],
            }),
          );
          https(env, r, out, host, ip, time + rtt + r.range(1, 30));
        } else https(env, r, out, host, e.type === 'cidr' ? memberOf(r, e.value) : e.value, time);
      });
      part.describe = (rec) => {
        if (rec.kind === 'dns') {
          const a = rec.fields.dnsAnswers;
          const ip =
            Array.isArray(a) &&
            typeof a[0] === 'object' &&
            a[0] !== null &&
            !Array.isArray(a[0]) &&
            typeof a[0].data === 'string'
              ? a[0].data
              : undefined;
          return { kind: 'ioc-dns', detectors: ['indicator'], attackers: ip ? [ip] : [], victims: [host] };
        }
        const [s, d] = endpoints(rec);
        const peer = s === host ? d : s;
        const listed = list !== env.ctx.indicators || indicatorMatches(list, peer, rec.time);
        if (!listed) return { kind: 'ioc-followup', detectors: [], attackers: [peer], victims: [host] };
        return s === host
          ? { kind: 'ioc-contact', detectors: ['indicator'], attackers: [peer], victims: [host] }
          : { kind: 'ioc-contact-responses', detectors: [], attackers: [peer], victims: [host] };
      };
      return part;
    });
    return parts;
  },
});
