/**
 * Indicator sets for `ioc-contact` (and `c2-beacon` with `c2FromIndicators`): a default set made
 * from the model, and a simple matcher for ground truth. The indicator file format itself (CSV
 * `value,type,valid_until,source,confidence`, or one value per line) lives in
 * src/common/indicators/, shared with detection; it is re-exported here for the generator.
 */
import { indicatorValid, type IndicatorEntry } from '../../common/indicators/index.ts';
import { formatIpv4, formatIpv6BigInt, formatPrefix, parsePrefix } from '../../common/prefixes/index.ts';
import type { CountryModel, Rng } from '../country/index.ts';
import { addressValue, familyOf } from './world.ts';

export {
  INDICATOR_CSV_HEADER,
  MAX_INDICATOR_LINES,
  indicatorsToCsv,
  writeIndicatorFile,
  inferIndicatorType,
  parseIndicators,
  readIndicatorFile,
  indicatorValid,
} from '../../common/indicators/index.ts';

/**
 * A default indicator set from the model: foreign C2 addresses (six IPv4, one IPv6 when the model
 * has one), one /27 of foreign space, and five C2-looking domains. Deterministic for a model and
 * stream.
 *
 * The addresses are drawn next to the model's foreign hosts (the same /24, IPv6 /64, so the same
 * registry row and country) but are never one of them, and the /27 holds none of them: the
 * background and the other scenarios only talk to the model's hosts, so an indicator is contacted
 * exactly when `ioc-contact` (or a `c2FromIndicators` beacon) means it to be — as with a real
 * feed, whose entries ordinary traffic does not reach.
 */
export function generateIndicators(model: CountryModel, rng: Rng): IndicatorEntry[] {
  const r = rng.fork('indicators');
  const v4 = model.foreign.filter(
    (h) => familyOf(h.address) === 4 && (h.role === 'generic' || h.role === 'web'),
  );
  const v6 = model.foreign.filter((h) => familyOf(h.address) === 6);
  const hostValues = new Set<bigint>();
  for (const h of model.foreign) {
    const a = addressValue(h.address);
    if (a) hostValues.add(a.v);
  }
  const out: IndicatorEntry[] = [];
  const used = new Set<bigint>();
  for (let k = 0; out.length < 6 && k < 200 && v4.length > 0; k++) {
    const base = addressValue(r.pick(v4).address)!.v & ~0xffn;
    const v = base | BigInt(r.range(1, 254));
    if (hostValues.has(v) || used.has(v)) continue;
    used.add(v);
    out.push({
      value: formatIpv4(Number(v)),
      type: 'ipv4',
      source: 'acd-simulator',
      confidence: r.range(60, 95),
    });
  }
  for (let k = 0; k < 50 && v6.length > 0; k++) {
    const base = addressValue(r.pick(v6).address)!.v & ~0xffffffffffffffffn;
    const v = base | (BigInt(r.u32()) << 16n) | BigInt(r.range(1, 0xffff));
    if (hostValues.has(v)) continue;
    out.push({
      value: formatIpv6BigInt(v),
      type: 'ipv6',
      source: 'acd-simulator',
      confidence: r.range(50, 90),
    });
    break;
  }
  for (let k = 0; k < 50 && v4.length > 0; k++) {
    const block = (addressValue(r.pick(v4).address)!.v & ~0xffn) | (BigInt(r.int(8)) << 5n);
    let clean = true;
    for (const v of [...hostValues, ...used]) if (v >= block && v <= block + 31n) clean = false;
    if (!clean) continue;
    out.push({
      value: formatPrefix(4, block, 27),
      type: 'cidr',
      source: 'acd-simulator',
      confidence: r.range(40, 70),
    });
    break;
  }
  const words = [
    'login',
    'secure',
    'update',
    'verify',
    'account',
    'cdn',
    'sync',
    'check',
    'service',
    'support',
  ];
  const tlds = ['top', 'xyz', 'info', 'online', 'site', 'club'];
  const domains = new Set<string>();
  while (domains.size < 5)
    domains.add(`${r.pick(words)}-${r.pick(words)}${r.range(10, 999)}.${r.pick(tlds)}`);
  for (const d of domains)
    out.push({ value: d, type: 'domain', source: 'acd-simulator', confidence: r.range(60, 95) });
  return out;
}

/** Whether an address or domain matches any valid indicator (CIDR containment, domain suffix). */
export function indicatorMatches(entries: readonly IndicatorEntry[], value: string, timeMs: number): boolean {
  const a = addressValue(value);
  const name = value.toLowerCase();
  for (const e of entries) {
    if (!indicatorValid(e, timeMs)) continue;
    if (e.type === 'domain') {
      if (!a && (name === e.value || name.endsWith(`.${e.value}`))) return true;
    } else if (a) {
      if (e.type === 'cidr') {
        const p = parsePrefix(e.value);
        if (p.version === a.version && p.first <= a.v && a.v <= p.last) return true;
      } else if (e.value === value) return true;
    }
  }
  return false;
}
