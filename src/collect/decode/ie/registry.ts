import type { IeDef } from './types.ts';
import { IANA_IES } from './iana.ts';
import { lookupV9 } from './v9.ts';
import { VENDOR_IES } from './vendors.ts';

/** Private enterprise number of RFC 5103 reverse information elements. */
export const REVERSE_PEN = 29305;

const byKey = new Map<string, IeDef>();
const byName = new Map<string, IeDef>();

function key(enterprise: number, id: number): string {
  return `${enterprise}/${id}`;
}

// The first definition of a name wins, and IANA elements are added first: ieByName prefers IANA.
function add(def: IeDef): void {
  byKey.set(key(def.enterprise, def.id), def);
  if (!byName.has(def.name)) byName.set(def.name, def);
}

for (const d of IANA_IES) add(d);
for (const d of IANA_IES) {
  // RFC 5103 section 6.1: every reversible IANA element has a twin with PEN 29305 and the same id.
  if (d.reversible) {
    add({ ...d, enterprise: REVERSE_PEN, name: 'reverse' + d.name[0]!.toUpperCase() + d.name.slice(1) });
  }
}
for (const d of VENDOR_IES) add(d);

/**
 * The information element for (enterprise, id). Unknown elements get a synthesised definition
 * decoded as an octet array: `ie<ID>` for IANA ids, `e<PEN>id<ID>` for enterprise ids.
 */
export function ieFor(enterprise: number, id: number): IeDef {
  const d = byKey.get(key(enterprise, id));
  if (d) return d;
  return {
    enterprise,
    id,
    name: enterprise === 0 ? `ie${id}` : `e${enterprise}id${id}`,
    type: 'octetArray',
  };
}

/** True when (enterprise, id) is a registered (not synthesised) element. */
export function isKnownIe(enterprise: number, id: number): boolean {
  return byKey.has(key(enterprise, id));
}

/**
 * The element for a NetFlow v9 field type (RFC 3954 section 8): types that IANA shares are the
 * same numbers; vendor types (Cisco ASA/NSEL, TrustSec, Palo Alto, ntop) map to their documented
 * names, or to the IANA element when one carries the same information. Unknown types are `ie<N>`.
 */
export function ieForV9(type: number): IeDef {
  return lookupV9(type) ?? ieFor(0, type);
}

/** Looks an element up by name (IANA first, then reverse, then vendor elements). */
export function ieByName(name: string): IeDef | undefined {
  return byName.get(name);
}

/** Every registered element (IANA, RFC 5103 reverse, vendor), for documentation and tests. */
export function allIes(): IterableIterator<IeDef> {
  return byKey.values();
}
