/**
 * Selectors (R-SEL-3) compiled for the hot path: indicator lists (address/prefix/domain sets),
 * target-act signatures (protocol + destination port set + TCP flag mask/value + direction +
 * optional indicators, e.g. "TCP SYN from abroad to 23/2323") and "all traffic the channel
 * allows". Compiling validates every value; matching allocates nothing and never throws.
 */
import { parsePrefix, tryParseAddress, type ParsedPrefix } from '../common/prefixes/index.ts';
import type { Selector } from '../common/schema/approval.ts';
import { AddressSet, DomainSet } from './sets.ts';

/** What a selector looks at in one record (filled by the engine, reused across records). */
export interface RowView {
  /** 4 or 6. */
  ipVersion: number;
  srcWords: Uint32Array;
  srcOff: number;
  dstWords: Uint32Array;
  dstOff: number;
  srcDomestic: boolean;
  dstDomestic: boolean;
  /** IP protocol number (0 when unknown). */
  proto: number;
  srcPort: number;
  dstPort: number;
  /** tcpControlBits (0 when absent). */
  tcpFlags: number;
  /** DNS event (names may be set) rather than a flow. */
  isDns: boolean;
  /** DNS names of the event (query name, answer names, non-address answer data). */
  names: readonly string[];
  /** Addresses in DNS answers as text (A/AAAA data), matched against address indicators. */
  answerAddresses: readonly string[];
}

/** An indicator list compiled into sets. */
export class IndicatorMatcher {
  readonly addresses: AddressSet;
  readonly domains: DomainSet;

  constructor(addresses: AddressSet, domains: DomainSet) {
    this.addresses = addresses;
    this.domains = domains;
  }

  /** True when either endpoint, a DNS name or a DNS answer address is on the list. */
  matches(r: RowView): boolean {
    const a = this.addresses;
    if (
      !a.empty &&
      (a.hasAt(r.ipVersion, r.srcWords, r.srcOff) || a.hasAt(r.ipVersion, r.dstWords, r.dstOff))
    )
      return true;
    if (!r.isDns) return false;
    if (this.domains.size > 0) for (const n of r.names) if (this.domains.matches(n)) return true;
    if (!a.empty)
      for (const text of r.answerAddresses) {
        const p = tryParseAddress(text);
        if (p && (p.version === 4 ? a.has4(p.w0) : a.has6(p.w0, p.w1, p.w2, p.w3))) return true;
      }
    return false;
  }
}

/** Domain names as an indicator: LDH labels (and `_` for service names), 1-253 characters. */
const DOMAIN_RE =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** Why an indicator value was refused (its index only: values may be sensitive). */
export class IndicatorValueError extends Error {
  readonly index: number;
  constructor(index: number) {
    super(`indicator ${index} is neither an address, a prefix nor a domain name`);
    this.index = index;
  }
}

/**
 * Compiles indicator values: an address (`198.51.100.7`), a prefix (`203.0.113.0/24`, host bits
 * zero) or a domain name (`evil.example`, matching its subdomains). Throws `IndicatorValueError`.
 */
export function compileIndicators(values: readonly string[]): IndicatorMatcher {
  const prefixes: ParsedPrefix[] = [];
  const domains: string[] = [];
  values.forEach((raw, i) => {
    const v = raw.trim();
    const a = tryParseAddress(v);
    if (a) {
      const bits = a.version === 4 ? 32 : 128;
      const text = `${v}/${bits}`;
      prefixes.push(parsePrefix(text));
      return;
    }
    if (v.includes('/')) {
      try {
        prefixes.push(parsePrefix(v));
      } catch {
        throw new IndicatorValueError(i);
      }
      return;
    }
    if (!DOMAIN_RE.test(v)) throw new IndicatorValueError(i);
    domains.push(v);
  });
  return new IndicatorMatcher(new AddressSet(prefixes), new DomainSet(domains));
}

/** Direction codes of a target-act selector. */
const DIR_ANY = 0;
const DIR_INBOUND = 1;
const DIR_OUTBOUND = 2;

/** A selector ready for matching. */
export interface CompiledSelector {
  readonly id: string;
  readonly kind: Selector['kind'];
  /** True when a record matches. */
  matches(r: RowView): boolean;
}

class AllTraffic implements CompiledSelector {
  readonly kind = 'all-channel-traffic' as const;
  constructor(readonly id: string) {}
  matches(): boolean {
    return true;
  }
}

class IndicatorSelector implements CompiledSelector {
  readonly kind = 'indicator-list' as const;
  constructor(
    readonly id: string,
    private readonly list: IndicatorMatcher,
  ) {}
  matches(r: RowView): boolean {
    return this.list.matches(r);
  }
}

class TargetAct implements CompiledSelector {
  readonly kind = 'target-act' as const;
  constructor(
    readonly id: string,
    /** -1 = any protocol. */
    private readonly proto: number,
    /** Bitmap of destination ports (8 KiB), or null for any port. */
    private readonly ports: Uint8Array | null,
    /** 0 = no flag condition. */
    private readonly flagMask: number,
    private readonly flagValue: number,
    private readonly direction: number,
    private readonly indicators: IndicatorMatcher | null,
  ) {}

  matches(r: RowView): boolean {
    if (this.proto >= 0 && r.proto !== this.proto) return false;
    const ports = this.ports;
    if (ports !== null && (ports[r.dstPort >>> 3]! & (1 << (r.dstPort & 7))) === 0) return false;
    // TCP flags mean nothing for other protocols: a flag condition matches TCP records only.
    if (this.flagMask !== 0 && (r.proto !== 6 || (r.tcpFlags & this.flagMask) !== this.flagValue))
      return false;
    if (this.direction === DIR_INBOUND && !(!r.srcDomestic && r.dstDomestic)) return false;
    if (this.direction === DIR_OUTBOUND && !(r.srcDomestic && !r.dstDomestic)) return false;
    if (this.indicators !== null && !this.indicators.matches(r)) return false;
    return true;
  }
}

/** Where `indicator-list` selectors find lists given by reference. */
export type IndicatorListSource = (listRef: string) => readonly string[] | undefined;

/** Why a selector could not be compiled. */
export class SelectorCompileError extends Error {
  constructor(
    readonly selectorId: string,
    message: string,
  ) {
    super(`selector ${selectorId}: ${message}`);
  }
}

/**
 * Compiles one selector of a verified approval. Throws `SelectorCompileError` (unknown list
 * reference, bad indicator value); the feed engine turns it into a typed activation refusal.
 */
export function compileSelector(s: Selector, lists: IndicatorListSource): CompiledSelector {
  switch (s.kind) {
    case 'all-channel-traffic':
      return new AllTraffic(s.id);
    case 'indicator-list': {
      const values = [...(s.values ?? [])];
      if (s.listRef !== undefined) {
        const ref = lists(s.listRef);
        if (ref === undefined)
          throw new SelectorCompileError(s.id, `indicator list ${s.listRef} is not loaded`);
        values.push(...ref);
      }
      try {
        return new IndicatorSelector(s.id, compileIndicators(values));
      } catch (err) {
        if (err instanceof IndicatorValueError) throw new SelectorCompileError(s.id, err.message);
        throw err;
      }
    }
    case 'target-act': {
      let ports: Uint8Array | null = null;
      if (s.ports !== undefined) {
        ports = new Uint8Array(8192);
        for (const p of s.ports) {
          const from = typeof p === 'number' ? p : p.from;
          const to = typeof p === 'number' ? p : p.to;
          for (let x = from; x <= to; x++) ports[x >>> 3]! |= 1 << (x & 7);
        }
      }
      let indicators: IndicatorMatcher | null = null;
      if (s.indicatorPatterns !== undefined) {
        try {
          indicators = compileIndicators(s.indicatorPatterns);
        } catch (err) {
          if (err instanceof IndicatorValueError) throw new SelectorCompileError(s.id, err.message);
          throw err;
        }
      }
      const dir =
        s.direction === 'inbound' ? DIR_INBOUND : s.direction === 'outbound' ? DIR_OUTBOUND : DIR_ANY;
      return new TargetAct(
        s.id,
        s.protocol ?? -1,
        ports,
        s.tcpFlags?.mask ?? 0,
        s.tcpFlags?.value ?? 0,
        dir,
        indicators,
      );
    }
  }
}
