import { isIP } from 'node:net';
import { UsageError } from '../../common/errors.ts';

/**
 * Parses the `--listen` URLs of `acd collect` into typed listener specs. Each scheme has one entry
 * in `SCHEMES` (a member of `ListenSpec`, a parser, and a case in the collector's exhaustive
 * switch): `udp://` and `sflow://` (datagrams; the decoder session recognises the format by
 * content, so the two differ only in name), `tcp://` (IPFIX over TCP), `dnstap+unix:PATH` and
 * `dnstap+tcp://` (dnstap over Frame Streams).
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

/**
 * sFlow v5 over UDP. The socket is the same as `udp://` (the decoder session tells sFlow from
 * NetFlow/IPFIX by content); the separate scheme keeps configurations and status output clear
 * about what an address is for.
 */
export interface SflowListenSpec extends BindAddress {
  readonly kind: 'sflow';
  readonly url: string;
}

/** dnstap over Frame Streams on a unix stream socket (how resolvers usually send it). */
export interface DnstapUnixListenSpec {
  readonly kind: 'dnstap+unix';
  readonly url: string;
  /** Socket path, as given (relative paths are relative to the working directory). */
  readonly path: string;
}

/** dnstap over Frame Streams on TCP (unbound `dnstap-ip`, knot-resolver, BIND via a relay). */
export interface DnstapTcpListenSpec extends BindAddress {
  readonly kind: 'dnstap+tcp';
  readonly url: string;
}

/** Everything `--listen` accepts; discriminated by `kind`. */
export type ListenSpec =
  UdpListenSpec | TcpListenSpec | SflowListenSpec | DnstapUnixListenSpec | DnstapTcpListenSpec;

/** The `kind`s of `ListenSpec`, for help texts and exhaustive checks. */
export type ListenKind = ListenSpec['kind'];

/** Highest TCP/UDP port number. */
const MAX_PORT = 65535;

/**
 * Longest unix socket path, in bytes: Linux's `sockaddr_un.sun_path` holds 108 bytes including
 * the terminating NUL. A longer path fails at bind time with a less helpful message, so it is
 * refused while parsing.
 */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

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
  /** The form of the rest, for error messages (`HOST:PORT`, `PATH`). */
  readonly form: string;
  readonly example: string;
  readonly parse: (url: string, rest: string) => ListenSpec;
}

/**
 * The rest of a `scheme://HOST:PORT` URL: a trailing `/` is tolerated, any other path refused
 * (a listener has nothing a path could name).
 */
function hostPortRest(url: string, rest: string, example: string): BindAddress {
  const slash = rest.indexOf('/');
  if (slash >= 0 && rest.slice(slash) !== '/')
    throw new UsageError(`${url}: a listen URL has no path (e.g. ${example})`);
  return parseHostPort(url, slash >= 0 ? rest.slice(0, slash) : rest);
}

/**
 * The path of `dnstap+unix:PATH`. The URL form with an empty authority (`dnstap+unix:///run/x.sock`)
 * is accepted too, since operators write it by habit.
 */
function parseSocketPath(url: string, rest: string): string {
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path === '')
    throw new UsageError(`${url}: expected a socket path (e.g. dnstap+unix:/run/acd/dnstap.sock)`);
  if (path.includes('\0')) throw new UsageError(`${url}: the socket path contains a NUL character`);
  if (path.endsWith('/')) throw new UsageError(`${url}: the socket path names a directory`);
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes > MAX_UNIX_SOCKET_PATH_BYTES)
    throw new UsageError(
      `${url}: the socket path is ${bytes} bytes long; unix sockets allow at most ${MAX_UNIX_SOCKET_PATH_BYTES}`,
    );
  return path;
}

const SCHEMES: readonly SchemeDef[] = [
  {
    prefix: 'udp://',
    form: 'HOST:PORT',
    example: 'udp://0.0.0.0:2055',
    parse: (url, rest) => ({ kind: 'udp', url, ...hostPortRest(url, rest, 'udp://0.0.0.0:2055') }),
  },
  {
    prefix: 'tcp://',
    form: 'HOST:PORT',
    example: 'tcp://[::]:4739',
    parse: (url, rest) => ({ kind: 'tcp', url, ...hostPortRest(url, rest, 'tcp://[::]:4739') }),
  },
  {
    prefix: 'sflow://',
    form: 'HOST:PORT',
    example: 'sflow://0.0.0.0:6343',
    parse: (url, rest) => ({ kind: 'sflow', url, ...hostPortRest(url, rest, 'sflow://0.0.0.0:6343') }),
  },
  {
    prefix: 'dnstap+unix:',
    form: 'PATH',
    example: 'dnstap+unix:/run/acd/dnstap.sock',
    parse: (url, rest) => ({ kind: 'dnstap+unix', url, path: parseSocketPath(url, rest) }),
  },
  {
    prefix: 'dnstap+tcp://',
    form: 'HOST:PORT',
    example: 'dnstap+tcp://127.0.0.1:6000',
    parse: (url, rest) => ({
      kind: 'dnstap+tcp',
      url,
      ...hostPortRest(url, rest, 'dnstap+tcp://127.0.0.1:6000'),
    }),
  },
];

/** Example URLs of every supported scheme, for `--help` and error messages. */
export const LISTEN_URL_EXAMPLES: readonly string[] = SCHEMES.map((s) => s.example);

/**
 * Parses one `--listen` URL. Throws `UsageError` naming the URL and what is wrong with it, so the
 * command exits 2 before anything is bound. Schemes are case-insensitive; a unix socket path keeps
 * its case.
 */
export function parseListenUrl(url: string): ListenSpec {
  const trimmed = url.trim();
  const lower = trimmed.toLowerCase();
  for (const s of SCHEMES) {
    if (lower.startsWith(s.prefix)) return s.parse(trimmed, trimmed.slice(s.prefix.length));
  }
  throw new UsageError(
    `${url}: unsupported listen URL; expected one of ${SCHEMES.map((s) => s.prefix + s.form).join(', ')}`,
  );
}

/**
 * Formats a bound address back as a URL (`udp://127.0.0.1:40123`, `tcp://[::1]:4739`,
 * `dnstap+unix:/run/acd/dnstap.sock`, where `address` is the socket path and `port` unused).
 */
export function formatListenUrl(kind: ListenKind, address: string, port: number): string {
  if (kind === 'dnstap+unix') return `dnstap+unix:${address}`;
  const host = address.includes(':') ? `[${address}]` : address;
  return `${kind}://${host}:${port}`;
}
