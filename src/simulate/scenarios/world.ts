/**
 * What scenarios need to know about the country: which side of the border an address is on,
 * which provider carries it, which operator holds it, and through which legal channel (DESIGN
 * section 5) a flow between two endpoints is visible. Built once per model and cached.
 */
import {
  formatIpv4,
  formatIpv6BigInt,
  parsePrefix,
  tryParseAddress,
  wordsToBigInt,
  type PrefixTable,
} from '../../common/prefixes/index.ts';
import type { CountryModel, ForeignHost, ForeignRole, Operator, Provider } from '../country/index.ts';
import type { Rng } from '../country/index.ts';
import type { LegalChannel } from '../traffic/types.ts';
import { ScenarioModelError } from './errors.ts';

interface Range {
  version: 4 | 6;
  first: bigint;
  last: bigint;
}

interface Owned<T> extends Range {
  owner: T;
}

/** Numeric value of an address (IPv4 and IPv6 alike), or undefined when it is not one. */
export function addressValue(address: string): { version: 4 | 6; v: bigint } | undefined {
  const a = tryParseAddress(address);
  if (!a) return undefined;
  return { version: a.version, v: a.version === 4 ? BigInt(a.w0) : wordsToBigInt(a.w0, a.w1, a.w2, a.w3) };
}

/** The address family of a textual address. */
export function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

function inRanges<T>(ranges: readonly Owned<T>[], address: string): T | undefined {
  const a = addressValue(address);
  if (!a) return undefined;
  for (const r of ranges) if (r.version === a.version && r.first <= a.v && a.v <= r.last) return r.owner;
  return undefined;
}

/** Model lookups shared by every scenario of a run. */
export class World {
  readonly model: CountryModel;
  readonly table: PrefixTable | undefined;
  private readonly providerRanges: Owned<Provider>[] = [];
  private readonly operatorRanges: Owned<Operator>[] = [];
  private readonly foreignByAddress = new Map<string, ForeignHost>();

  constructor(model: CountryModel, table?: PrefixTable) {
    this.model = model;
    this.table = table;
    for (const p of model.providers)
      for (const x of p.prefixes) {
        const r = parsePrefix(x.prefix);
        this.providerRanges.push({ version: r.version, first: r.first, last: r.last, owner: p });
      }
    for (const o of model.operators)
      for (const x of o.ranges) {
        const r = parsePrefix(x.prefix);
        this.operatorRanges.push({ version: r.version, first: r.first, last: r.last, owner: o });
      }
    for (const h of model.foreign) this.foreignByAddress.set(h.address, h);
  }

  /** The provider whose space holds `address`, if any. */
  providerOf(address: string): Provider | undefined {
    return inRanges(this.providerRanges, address);
  }

  /** The operator whose ranges hold `address`, if any. */
  operatorOf(address: string): Operator | undefined {
    return inRanges(this.operatorRanges, address);
  }

  /**
   * Whether an address is domestic. With the prefix table: as the edge decides (own country,
   * special and unknown space count as domestic). Without it: inside a provider of the model.
   */
  isDomestic(address: string): boolean {
    if (this.table) return this.table.isDomestic(address, this.model.domesticCountry);
    return this.providerOf(address) !== undefined;
  }

  /**
   * Whether an operator's agreement covers event time `timeMs`: status `active` and the date
   * inside [validFrom, validUntil] (whole UTC days), as an edge loading the operators file checks.
   */
  agreementCovers(op: Operator, timeMs: number): boolean {
    const a = op.agreement;
    if (a.status !== 'active') return false;
    const day = new Date(timeMs).toISOString().slice(0, 10);
    if (a.validFrom !== undefined && day < a.validFrom) return false;
    if (a.validUntil !== undefined && day > a.validUntil) return false;
    return true;
  }

  /**
   * The legal channel through which a flow from `src` to `dst` at `timeMs` is visible, or
   * undefined for domestic→domestic traffic (never selected).
   */
  channel(src: string, dst: string, timeMs: number): LegalChannel | undefined {
    const s = this.isDomestic(src);
    const d = this.isDomestic(dst);
    if (s && d) return undefined;
    if (s) return 'specified-domestic-to-foreign';
    if (!d) return 'transit-foreign-to-foreign';
    const op = this.operatorOf(dst);
    return op && this.agreementCovers(op, timeMs)
      ? 'agreement-foreign-to-domestic'
      : 'specified-foreign-to-domestic';
  }

  /**
   * The provider whose network carries a flow: the source's if it is domestic, else the
   * destination's; foreign→foreign transit (or space outside the model) goes to the provider
   * chosen by a stable hash of the addresses, so the same pair always crosses the same network.
   */
  carrier(src: string, dst: string): string {
    const p = this.providerOf(src) ?? this.providerOf(dst);
    if (p) return p.id;
    let h = 0x811c9dc5;
    const s = src + '>' + dst;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    return this.model.providers[h % this.model.providers.length]!.id;
  }

  /** Subscribers of the given family (all providers). */
  subscribers(family: 4 | 6): string[] {
    return this.model.providers.flatMap((p) => p.subscribers.filter((a) => familyOf(a) === family));
  }

  /** A subscriber of the family; throws `ScenarioModelError` when there is none. */
  pickSubscriber(rng: Rng, family: 4 | 6 = 4): string {
    const all = this.subscribers(family);
    if (all.length === 0) throw new ScenarioModelError(`no IPv${family} subscriber in the model`);
    return rng.pick(all);
  }

  /** Foreign hosts of the family, preferring `roles` when any has them. */
  foreignHosts(family: 4 | 6, roles?: readonly ForeignRole[]): ForeignHost[] {
    const fam = this.model.foreign.filter((h) => familyOf(h.address) === family);
    if (roles) {
      const r = fam.filter((h) => roles.includes(h.role));
      if (r.length > 0) return r;
    }
    return fam;
  }

  /** A foreign host address; throws `ScenarioModelError` when the model has none of the family. */
  pickForeign(
    rng: Rng,
    family: 4 | 6 = 4,
    roles?: readonly ForeignRole[],
    avoid?: ReadonlySet<string>,
  ): string {
    let all = this.foreignHosts(family, roles);
    if (avoid && avoid.size > 0) {
      const rest = all.filter((h) => !avoid.has(h.address));
      if (rest.length > 0) all = rest;
    }
    if (all.length === 0) throw new ScenarioModelError(`no IPv${family} foreign host in the model`);
    return rng.pick(all).address;
  }

  /** Distinct foreign addresses (model hosts first, then random foreign space). */
  pickForeignMany(rng: Rng, n: number, family: 4 | 6 = 4, avoid?: ReadonlySet<string>): string[] {
    const out = new Set<string>();
    const hosts = this.foreignHosts(family).map((h) => h.address);
    if (hosts.length === 0) throw new ScenarioModelError(`no IPv${family} foreign host in the model`);
    for (let k = 0; out.size < n && k < n * 20; k++) {
      const a =
        out.size < hosts.length / 2 && rng.chance(0.5) ? rng.pick(hosts) : this.randomForeign(rng, family);
      if (!avoid?.has(a)) out.add(a);
    }
    return [...out];
  }

  /**
   * A random foreign address. With the prefix table: uniform over IPv4 space that the table
   * places in another country (IPv6: next to a foreign host); without it: a random host in the
   * /24 (IPv6: /64) of a foreign host of the model, which lies in the same registry row in all
   * but rare cases.
   */
  randomForeign(rng: Rng, family: 4 | 6 = 4): string {
    const t = this.table;
    if (t && family === 4) {
      const dom = t.countryClass(this.model.domesticCountry);
      for (let k = 0; k < 64; k++) {
        const a = rng.u32();
        const c = t.classify4(a);
        const cc = t.countryOf(c);
        if (cc !== undefined && c !== dom) return formatIpv4(a);
      }
    }
    const hosts = this.foreignHosts(family);
    if (hosts.length === 0) throw new ScenarioModelError(`no IPv${family} foreign host in the model`);
    for (let k = 0; k < 16; k++) {
      const base = addressValue(rng.pick(hosts).address)!;
      const a =
        family === 4
          ? formatIpv4(Number((base.v & ~0xffn) | BigInt(rng.range(1, 254))))
          : formatIpv6BigInt((base.v & ~0xffffffffffffffffn) | BigInt(rng.range(1, 0xffff)));
      if (!t || !t.isDomestic(a, this.model.domesticCountry)) return a;
    }
    return rng.pick(hosts).address;
  }

  /** A random address in a provider's space of one role (any provider when `providerId` is unset). */
  randomDomestic(
    rng: Rng,
    family: 4 | 6 = 4,
    roles: readonly string[] = ['subscribers', 'infrastructure'],
  ): string {
    const prefixes = this.model.providers.flatMap((p) =>
      p.prefixes.filter((x) => x.version === family && roles.includes(x.role)),
    );
    if (prefixes.length === 0) throw new ScenarioModelError(`no IPv${family} provider space in the model`);
    const r = parsePrefix(rng.pick(prefixes).prefix);
    const size = r.last - r.first + 1n;
    const off = size > 2n ? 1n + rng.bigint(size - 2n) : 0n;
    return family === 4 ? formatIpv4(Number(r.first + off)) : formatIpv6BigInt(r.first + off);
  }

  /** Every host address of an operator's IPv4 ranges (network and broadcast excluded). */
  operatorHosts(op: Operator): string[] {
    const out: string[] = [];
    for (const x of op.ranges) {
      const r = parsePrefix(x.prefix);
      if (r.version !== 4) continue;
      for (let v = r.first + 1n; v < r.last; v++) out.push(formatIpv4(Number(v)));
    }
    return out;
  }

  /** Operators, optionally of one sector, whose agreement covers `timeMs` first. */
  operatorsByAgreement(timeMs: number, sector?: string): Operator[] {
    const ops = this.model.operators.filter((o) => sector === undefined || o.sector === sector);
    return [
      ...ops.filter((o) => this.agreementCovers(o, timeMs)),
      ...ops.filter((o) => !this.agreementCovers(o, timeMs)),
    ];
  }

  /**
   * An important system of an operator whose agreement covers `timeMs` (so the attack is visible
   * through `agreement-foreign-to-domestic`), or of any operator when none has one.
   */
  pickOperatorTarget(rng: Rng, timeMs: number, sector?: string): { op: Operator; address: string } {
    const ops = this.model.operators.filter((o) => sector === undefined || o.sector === sector);
    if (ops.length === 0)
      throw new ScenarioModelError(`no operator${sector ? ` in sector ${sector}` : ''} in the model`);
    const covered = ops.filter((o) => this.agreementCovers(o, timeMs) && o.importantSystems.length > 0);
    const op = rng.pick(covered.length > 0 ? covered : ops);
    const sys =
      op.importantSystems.length > 0 ? rng.pick(op.importantSystems).address : this.operatorHosts(op)[0];
    if (sys === undefined) throw new ScenarioModelError(`operator ${op.id} has no IPv4 host`);
    return { op, address: sys };
  }
}

const worlds = new WeakMap<CountryModel, Map<PrefixTable | undefined, World>>();

/** The (cached) `World` of a model and optional table. */
export function worldOf(model: CountryModel, table?: PrefixTable): World {
  let m = worlds.get(model);
  if (!m) worlds.set(model, (m = new Map<PrefixTable | undefined, World>()));
  let w = m.get(table);
  if (!w) m.set(table, (w = new World(model, table)));
  return w;
}
