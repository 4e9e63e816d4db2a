/**
 * Indicator sets for `ioc-contact` (and `c2-beacon` with `c2FromIndicators`): a default set made
 * from the model, and the indicator file of the detection issue — CSV with the header
 * `value,type,valid_until,source,confidence` (`type` one of ipv4|ipv6|cidr|domain, `valid_until`
 * ISO 8601 or empty), or one value per line (type inferred).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { formatAddress, formatPrefix, parsePrefix, tryParseAddress } from '../../common/prefixes/index.ts';
import type { CountryModel, Rng } from '../country/index.ts';
import type { IndicatorEntry } from '../traffic/types.ts';
import { IndicatorFileError } from './errors.ts';
import { addressValue, familyOf } from './world.ts';

/** Header line of the CSV format. */
export const INDICATOR_CSV_HEADER = 'value,type,valid_until,source,confidence';
/** Most lines read from an indicator file: bounds memory for a wrong file given by mistake. */
export const MAX_INDICATOR_LINES = 1_000_000;

const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

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

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The indicators as CSV text (header first, one entry per line). */
export function indicatorsToCsv(entries: readonly IndicatorEntry[]): string {
  const lines = [INDICATOR_CSV_HEADER];
  for (const e of entries)
    lines.push([e.value, e.type, e.validUntil ?? '', e.source, String(e.confidence)].map(csvField).join(','));
  return lines.join('\n') + '\n';
}

/** Writes an indicator file in the CSV format. */
export async function writeIndicatorFile(path: string, entries: readonly IndicatorEntry[]): Promise<void> {
  await writeFile(path, indicatorsToCsv(entries));
}

/** Splits one CSV line (RFC 4180 quoting). */
function splitCsv(line: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"' && cur === '') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (q) return undefined;
  out.push(cur);
  return out;
}

/** The type of a bare value, or undefined when it is none of the four. */
export function inferIndicatorType(value: string): IndicatorEntry['type'] | undefined {
  if (value.includes('/')) {
    try {
      parsePrefix(value);
      return 'cidr';
    } catch {
      return undefined;
    }
  }
  const a = tryParseAddress(value);
  if (a) return a.version === 4 ? 'ipv4' : 'ipv6';
  return DOMAIN_RE.test(value.toLowerCase()) ? 'domain' : undefined;
}

/** Parses indicator file text (either format); throws `IndicatorFileError` naming the line. */
export function parseIndicators(text: string, file = '(text)'): IndicatorEntry[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_INDICATOR_LINES)
    throw new IndicatorFileError(file, 0, `more than ${MAX_INDICATOR_LINES} lines`);
  const csv = lines[0]?.trim().toLowerCase() === INDICATOR_CSV_HEADER;
  const out: IndicatorEntry[] = [];
  for (let n = csv ? 1 : 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cols = csv ? splitCsv(line) : [line];
    if (!cols || (csv && cols.length !== 5))
      throw new IndicatorFileError(file, n + 1, 'expected 5 CSV columns');
    const raw = cols[0]!.trim();
    const type = csv ? cols[1]!.trim() : inferIndicatorType(raw);
    if (type !== 'ipv4' && type !== 'ipv6' && type !== 'cidr' && type !== 'domain')
      throw new IndicatorFileError(file, n + 1, `not an address, CIDR or domain: ${raw}`);
    if (inferIndicatorType(raw) !== type)
      throw new IndicatorFileError(file, n + 1, `${raw} is not of type ${type}`);
    let value = raw.toLowerCase();
    if (type === 'ipv4' || type === 'ipv6') value = formatAddress(tryParseAddress(raw)!);
    const e: IndicatorEntry = { value, type, source: csv ? cols[3]!.trim() : 'file', confidence: 50 };
    if (csv) {
      const until = cols[2]!.trim();
      if (until !== '') {
        if (!Number.isFinite(Date.parse(until)))
          throw new IndicatorFileError(file, n + 1, `bad valid_until ${until}`);
        e.validUntil = until;
      }
      const c = Number(cols[4]!.trim());
      if (cols[4]!.trim() === '' || !Number.isFinite(c) || c < 0 || c > 100)
        throw new IndicatorFileError(file, n + 1, 'confidence must be 0..100');
      e.confidence = c;
    }
    out.push(e);
  }
  return out;
}

/** Reads an indicator file (either format). */
export async function readIndicatorFile(path: string): Promise<IndicatorEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new IndicatorFileError(path, 0, 'cannot read the file', { cause: e });
  }
  return parseIndicators(text, path);
}

/** Whether an indicator is in force at event time `timeMs`. */
export function indicatorValid(e: IndicatorEntry, timeMs: number): boolean {
  return e.validUntil === undefined || Date.parse(e.validUntil) >= timeMs;
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
