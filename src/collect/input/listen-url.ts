import { isIP } from 'node:net';
import { UsageError } from '../../common/errors.ts';

/**
 * Parses the `--listen` URLs of `acd collect` into typed listener specs. Each scheme has one entry
 * in `SCHEMES`; the sibling issue adds `sflow://`, `dnstap+unix:PATH` and `dnstap+tcp://` there
 * (a new member of `ListenSpec`, a parser, and a case in the collector's exhaustive switch).
 */

/** A socket address to bind: an IP literal (v4 or v6, without brackets) and a port (0 = OS-chosen). */
export interface BindAddress {
  /** IPv4 dotted quad or IPv6 text, without brackets. */
  readonly host: string;
  /** 0..65535; 0 lets the operating system choose (read the real port after `start()`). */
  readonly port: number;
  /** Address family of `host`, which picks the socket type (udp4/udp6, IPv4/IPv6 server). */
  readonly family: 4 | 6;
}

/** Flow exports (NetFlow v5/v9, IPFIX) over UDP, one message per datagram. */
export interface UdpListenSpec extends BindAddress {
  readonly kind: 'udp';
  /** The URL as given, for messages and status output. */
  readonly url: string;
}

/** IPFIX over TCP (RFC 7011 section 10.4): a byte stream framed by the message header length. */
export interface TcpListenSpec extends BindAddress {
  readonly kind: 'tcp';
  readonly url: string;
}

/** Everything `--listen` accepts; discriminated by `kind`. */
export type ListenSpec = UdpListenSpec | TcpListenSpec;

/** The `kind`s of `ListenSpec`, for help texts and exhaustive checks. */
export type ListenKind = ListenSpec['kind'];

/** Highest TCP/UDP port number. */
const MAX_PORT = 65535;

/**
 * Parses `HOST:PORT` where HOST is an IPv4 literal or a bracketed IPv6 literal. Host names are
 * refused on purpose: a listener must bind to exactly the address the operator named, and name
 * resolution at start-up would make that depend on DNS.
 */
function parseHostPort(url: string, rest: string): BindAddress {
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new UsageError(`${url}: missing "]" after the IPv6 address`);
    host = rest.slice(1, close);
    if (rest[close + 1] !== ':')
      throw new UsageError(`${url}: expected ":PORT" after the bracketed IPv6 address`);
    portText = rest.slice(close + 2);
    if (isIP(host) !== 6) throw new UsageError(`${url}: "${host}" is not an IPv6 address`);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) throw new UsageError(`${url}: expected HOST:PORT (e.g. 0.0.0.0:2055)`);
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.includes(':')) throw new UsageError(`${url}: IPv6 addresses must be bracketed, e.g. [::1]:4739`);
    if (isIP(host) !== 4)
      throw new UsageError(
        `${url}: "${host}" is not an IPv4 address (use an IP literal such as 0.0.0.0, 127.0.0.1 or [::])`,
      );
  }
  if (!/^\d{1,5}$/.test(portText)) throw new UsageError(`${url}: port "${portText}" is not a number`);
  const port = Number(portText);
  if (port > MAX_PORT) throw new UsageError(`${url}: port ${port} is above ${MAX_PORT}`);
  return { host, port, family: isIP(host) === 6 ? 6 : 4 };
}

/** One supported scheme: its prefix, a parser for the rest, and a line for help texts. */
interface SchemeDef {
  readonly prefix: string;
  readonly example: string;
  readonly parse: (url: string, rest: string) => ListenSpec;
}

const SCHEMES: readonly SchemeDef[] = [
  {
    prefix: 'udp://',
    example: 'udp://0.0.0.0:2055',
    parse: (url, rest) => ({ kind: 'udp', url, ...parseHostPort(url, rest) }),
  },
  {
    prefix: 'tcp://',
    example: 'tcp://[::]:4739',
    parse: (url, rest) => ({ kind: 'tcp', url, ...parseHostPort(url, rest) }),
  },
];

/** Example URLs of every supported scheme, for `--help` and error messages. */
export const LISTEN_URL_EXAMPLES: readonly string[] = SCHEMES.map((s) => s.example);

/**
 * Parses one `--listen` URL. Throws `UsageError` naming the URL and what is wrong with it, so the
 * command exits 2 before anything is bound.
 */
export function parseListenUrl(url: string): ListenSpec {
  const trimmed = url.trim();
  const lower = trimmed.toLowerCase();
  for (const s of SCHEMES) {
    if (lower.startsWith(s.prefix)) {
      const rest = trimmed.slice(s.prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0 && rest.slice(slash) !== '/')
        throw new UsageError(`${url}: a listen URL has no path (e.g. ${s.example})`);
      return s.parse(trimmed, slash >= 0 ? rest.slice(0, slash) : rest);
    }
  }
  throw new UsageError(
    `${url}: unsupported listen URL; expected one of ${SCHEMES.map((s) => s.prefix + 'HOST:PORT').join(', ')}`,
  );
}

/** Formats a bound address back as a URL (`udp://127.0.0.1:40123`, `tcp://[::1]:4739`). */
export function formatListenUrl(kind: ListenKind, address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${kind}://${host}:${port}`;
}
