/**
 * Indicator sets for `ioc-contact` (and `c2-beacon` with `c2FromIndicators`): a default set made
 * from the model, and a simple matcher for ground truth. The indicator file format itself (CSV
 * `value,type,valid_until,source,confidence`, or one value per line) lives in
 * src/common/indicators/, shared with detection; it is re-exported here for the generator.
 */
import { indicatorValid, type IndicatorEntry } from '../../common/indicators/index.ts';
import { formatPrefix, parsePrefix } from '../../common/prefixes/index.ts';
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
 * has one), one /24 around another foreign host, and five C2-looking domains. Deterministic for a
 * model and stream.
 */
export function generateIndicators(model: CountryModel, rng: Rng): IndicatorEntry[] {
  const r = rng.fork('indicators');
  const v4 = model.foreign.filter(
    (h) => familyOf(h.address) === 4 && (h.role === 'generic' || h.role === 'web'),
  );
  const v6 = model.foreign.filter((h) => familyOf(h.address) === 6);
  const out: IndicatorEntry[] = [];
  const used = new Set<string>();
  for (let k = 0; out.length < 6 && k < 100 && v4.length > 0; k++) {
    const h = r.pick(v4);
    if (used.has(h.address)) continue;
    used.add(h.address);
    out.push({ value: h.address, type: 'ipv4', source: 'acd-simulator', confidence: r.range(60, 95) });
  }
  if (v6.length > 0)
    out.push({
      value: r.pick(v6).address,
      type: 'ipv6',
      source: 'acd-simulator',
      confidence: r.range(50, 90),
    });
  const rest = v4.filter((h) => !used.has(h.address));
  if (rest.length > 0) {
    const p = addressValue(r.pick(rest).address)!;
    out.push({
      value: formatPrefix(4, p.v & ~0xffn, 24),
      type: 'cidr',
      source: 'acd-simulator',
      confidence: r.range(40, 70),
    });
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
