/**
 * Recognises the text imports by content, never by file name: from the first
 * {@link TEXT_SNIFF_BYTES} of a file it tells Zeek TSV (`#separator` then `#path`/`#fields`), Zeek
 * JSON lines (objects with `ts` and `id.orig_h`), Argus CSV (a header row naming SrcAddr/DstAddr)
 * and nfdump CSV (`ts,te,td,sa,da,...` or the newer `firstSeen,...,srcAddr,...`) apart. Returns
 * `undefined` for anything else, including binary data and other Zeek logs. Never throws.
 */
import { isArgusHeader } from './argus.ts';
import { MAX_SNIFF_JSON_BYTES, TEXT_SNIFF_BYTES } from './limits.ts';
import { isNfdumpHeader } from './nfdump.ts';
import type { TextKind } from './types.ts';
import { zeekLogOfColumns } from './zeek.ts';

/**
 * Sniffs the start of a file. `complete` says the bytes are the whole file (so the last line is
 * whole even without a line break); by default it is assumed when fewer than
 * {@link TEXT_SNIFF_BYTES} are given.
 */
export function sniffText(
  head: Uint8Array,
  complete: boolean = head.length < TEXT_SNIFF_BYTES,
): TextKind | undefined {
  const bytes = head.subarray(0, TEXT_SNIFF_BYTES);
  if (bytes.includes(0)) return undefined;
  let text = new TextDecoder('utf-8').decode(bytes);
  if (text.includes('\uFFFD')) return undefined;
  let lines = text.split('\n');
  if (!(complete && head.length <= TEXT_SNIFF_BYTES)) lines = lines.slice(0, -1);
  lines = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.trim().length > 0);
  text = '';
  const first = lines[0];
  if (first === undefined) return undefined;
  if (first.startsWith('#separator')) return sniffZeekTsv(lines);
  if (first.trimStart().startsWith('{')) return sniffZeekJson(first);
  if (isNfdumpHeader(first)) return 'nfdump-csv';
  if (isArgusHeader(first)) return 'argus-csv';
  return undefined;
}

function sniffZeekTsv(lines: string[]): TextKind | undefined {
  const sepText = lines[0]!.slice('#separator'.length).trim();
  const sep = sepText.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  if (sep.length === 0) return undefined;
  let path = '';
  for (const l of lines) {
    if (!l.startsWith('#')) break;
    const [key, ...rest] = l.split(sep);
    if (key === '#path') path = rest.join(sep);
    if (key === '#fields') {
      const names = rest.flatMap((n) => n.trim().split(/ +/));
      const log = path === 'conn' || path === 'dns' ? path : zeekLogOfColumns(names);
      return log === 'conn' ? 'zeek-conn-tsv' : log === 'dns' ? 'zeek-dns-tsv' : undefined;
    }
  }
  return undefined;
}

const DNS_KEYS = ['query', 'qtype', 'rcode', 'trans_id', 'answers'];
const CONN_KEYS = [
  'conn_state',
  'orig_bytes',
  'resp_bytes',
  'orig_pkts',
  'orig_ip_bytes',
  'history',
  'duration',
];

function sniffZeekJson(line: string): TextKind | undefined {
  if (line.length > MAX_SNIFF_JSON_BYTES) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  const o = obj as Record<string, unknown>;
  const id = o.id;
  const nestedOrig = typeof id === 'object' && id !== null && 'orig_h' in id;
  if (!('ts' in o) || !('id.orig_h' in o || nestedOrig)) return undefined;
  if (o._path === 'conn') return 'zeek-conn-json';
  if (o._path === 'dns') return 'zeek-dns-json';
  if (typeof o._path === 'string') return undefined;
  if (DNS_KEYS.some((k) => k in o)) return 'zeek-dns-json';
  if (CONN_KEYS.some((k) => k in o)) return 'zeek-conn-json';
  return undefined;
}
