/**
 * The indicator file of `--indicators FILE` (issue 6): CSV with the header
 * `value,type,valid_until,source,confidence` (`type` one of ipv4|ipv6|cidr|domain, `valid_until`
 * ISO 8601 or empty, `confidence` 0..100, RFC 4180 quoting), or one value per line (type
 * inferred, source `file`, confidence 50). Blank lines and `#` comments are skipped. Shared by
 * the generator (which writes the file and contacts its entries) and detection (which matches
 * them); the parser is pure, with named limits on the untrusted input.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { formatAddress, parsePrefix, tryParseAddress } from '../prefixes/index.ts';
import { IndicatorFileError } from './errors.ts';

export { IndicatorFileError } from './errors.ts';

/** An indicator (address, CIDR or domain) as the indicator file holds it. */
export interface IndicatorEntry {
  /** Canonical text: addresses as `formatAddress` prints them, CIDRs and domains lower case. */
  value: string;
  type: 'ipv4' | 'ipv6' | 'cidr' | 'domain';
  /** ISO 8601; absent = no expiry. */
  validUntil?: string;
  source: string;
  /** 0..100. */
  confidence: number;
}

/** Header line of the CSV format. */
export const INDICATOR_CSV_HEADER = 'value,type,valid_until,source,confidence';
/** Most lines read from an indicator file: bounds memory for a wrong file given by mistake. */
export const MAX_INDICATOR_LINES = 1_000_000;
/** Longest line accepted (a domain is at most 253 characters; sources and dates are short). */
export const MAX_INDICATOR_LINE_CHARS = 4096;
/** Largest file read by `readIndicatorFile` (bytes). */
export const MAX_INDICATOR_FILE_BYTES = 256 * 1024 * 1024;

const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

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

/** Splits one CSV line (RFC 4180 quoting); undefined when a quote is left open. */
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
    if (lines[n]!.length > MAX_INDICATOR_LINE_CHARS)
      throw new IndicatorFileError(file, n + 1, `line longer than ${MAX_INDICATOR_LINE_CHARS} characters`);
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cols = csv ? splitCsv(line) : [line];
    if (!cols || (csv && cols.length !== 5))
      throw new IndicatorFileError(file, n + 1, 'expected 5 CSV columns');
    const raw = cols[0]!.trim();
    const type = csv ? cols[1]!.trim() : inferIndicatorType(raw);
    if (type !== 'ipv4' && type !== 'ipv6' && type !== 'cidr' && type !== 'domain')
      throw new IndicatorFileError(file, n + 1, `not an address, CIDR or domain: ${raw.slice(0, 80)}`);
    if (inferIndicatorType(raw) !== type)
      throw new IndicatorFileError(file, n + 1, `${raw.slice(0, 80)} is not of type ${type}`);
    let value = raw.toLowerCase();
    if (type === 'ipv4' || type === 'ipv6') {
      const a = tryParseAddress(raw);
      if (a) value = formatAddress(a);
    }
    const e: IndicatorEntry = { value, type, source: csv ? cols[3]!.trim() : 'file', confidence: 50 };
    if (csv) {
      const until = cols[2]!.trim();
      if (until !== '') {
        if (!Number.isFinite(Date.parse(until)))
          throw new IndicatorFileError(file, n + 1, `bad valid_until ${until.slice(0, 80)}`);
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
    const buf = await readFile(path);
    if (buf.length > MAX_INDICATOR_FILE_BYTES)
      throw new IndicatorFileError(path, 0, `larger than ${MAX_INDICATOR_FILE_BYTES} bytes`);
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof IndicatorFileError) throw e;
    throw new IndicatorFileError(path, 0, 'cannot read the file', { cause: e });
  }
  return parseIndicators(text, path);
}

/**
 * Expiry of an indicator as epoch ms: Infinity when it has none, −Infinity when `validUntil` is
 * not a date (never from `parseIndicators`, which rejects such lines).
 */
export function indicatorExpiry(e: IndicatorEntry): number {
  if (e.validUntil === undefined) return Infinity;
  const t = Date.parse(e.validUntil);
  return Number.isFinite(t) ? t : -Infinity;
}

/** Whether an indicator is in force at event time `timeMs`. */
export function indicatorValid(e: IndicatorEntry, timeMs: number): boolean {
  return indicatorExpiry(e) >= timeMs;
}
