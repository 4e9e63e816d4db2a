import type { FieldValue, Fields } from '../../common/schema/index.ts';
import type { IeDataType } from '../../collect/decode/ie/types.ts';
import { ieByName, ieFor } from '../../collect/decode/ie/registry.ts';
import { V9_SCOPE_NAMES } from '../../collect/decode/netflow9.ts';
import { EncodeError } from './errors.ts';
import type { EncodeFieldSpec, EncodeListSpec, EncodeTemplate } from './types.ts';
import { ByteWriter } from './writer.ts';

/** IPFIX's "variable length" marker in a field specifier (RFC 7011 section 7). */
export const VARLEN = 65535;

/** A field specifier resolved against the registry. */
export interface ResolvedField {
  name: string;
  id: number;
  enterprise: number;
  length: number;
  type: IeDataType;
  list?: EncodeListSpec;
}

const NATURAL: Partial<Record<IeDataType, number>> = {
  unsigned8: 1,
  unsigned16: 2,
  unsigned32: 4,
  unsigned64: 8,
  signed8: 1,
  signed16: 2,
  signed32: 4,
  signed64: 8,
  float32: 4,
  float64: 8,
  boolean: 1,
  macAddress: 6,
  dateTimeSeconds: 4,
  dateTimeMilliseconds: 8,
  dateTimeMicroseconds: 8,
  dateTimeNanoseconds: 8,
  ipv4Address: 4,
  ipv6Address: 16,
};

/**
 * Resolves a field spec. `v9Scope` marks a NetFlow v9 options scope field, whose id is a scope
 * type (1-5) with the names of `V9_SCOPE_NAMES`, encoded as an unsigned integer.
 */
export function resolveField(spec: EncodeFieldSpec, v9Scope = false): ResolvedField {
  const s = typeof spec === 'string' ? { name: spec } : spec;
  if (v9Scope) {
    let id = s.id;
    if (id === undefined && s.name !== undefined) {
      const e = Object.entries(V9_SCOPE_NAMES).find(([, n]) => n === s.name);
      if (e) id = Number(e[0]);
    }
    const name = id === undefined ? undefined : V9_SCOPE_NAMES[id];
    if (id === undefined || name === undefined)
      throw new EncodeError(`unknown v9 scope field ${s.name ?? ''}`);
    return { name, id, enterprise: 0, length: s.length ?? 4, type: 'unsigned32' };
  }
  let def;
  if (s.id !== undefined) def = ieFor(s.enterprise ?? 0, s.id);
  else if (s.name !== undefined) def = ieByName(s.name);
  if (!def) throw new EncodeError(`unknown information element ${s.name ?? ''}`);
  const length = s.length ?? NATURAL[def.type] ?? VARLEN;
  const r: ResolvedField = { name: def.name, id: def.id, enterprise: def.enterprise, length, type: def.type };
  if (s.list) r.list = s.list;
  return r;
}

/** Resolves every field of a template (the first `scopeCount` as v9 scope fields when `v9`). */
export function resolveTemplate(t: EncodeTemplate, v9: boolean): ResolvedField[] {
  const scope = t.scopeCount ?? 0;
  return t.fields.map((f, i) => resolveField(f, v9 && i < scope));
}

/** Writes a field specifier (IPFIX: enterprise bit + PEN; v9: type + length). */
export function writeSpecifier(w: ByteWriter, f: ResolvedField, v9: boolean): void {
  if (v9 || f.enterprise === 0) {
    w.u16(f.id).u16(f.length);
  } else {
    w.u16(0x8000 | f.id)
      .u16(f.length)
      .u32(f.enterprise);
  }
}

/** Big-endian unsigned integer of `length` bytes from a number, decimal string or bigint. */
function writeUnsigned(w: ByteWriter, value: FieldValue | bigint, length: number): void {
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' || typeof value === 'string') v = BigInt(value);
  else if (typeof value === 'boolean') v = value ? 1n : 0n;
  else throw new EncodeError('integer value expected');
  const bits = BigInt(length * 8);
  v = BigInt.asUintN(Number(bits), v);
  for (let i = length - 1; i >= 0; i--) w.u8(Number((v >> BigInt(i * 8)) & 0xffn));
}

function parseIpv4(s: string): number[] {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255))
    throw new EncodeError(`bad IPv4 address ${s}`);
  return p;
}

/** Parses any textual IPv6 address (incl. `::` and an embedded IPv4 tail) into 16 bytes. */
export function parseIpv6(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // An embedded IPv4 tail (e.g. ::ffff:192.0.2.1) stands for the last two groups.
    const v4 = parseIpv4(text.slice(lastColon + 1));
    const g1 = ((v4[0]! << 8) | v4[1]!).toString(16);
    const g2 = ((v4[2]! << 8) | v4[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${g1}:${g2}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new EncodeError(`bad IPv6 address ${s}`);
  const parse = (h: string | undefined): number[] =>
    h === undefined || h === '' ? [] : h.split(':').map((g) => Number.parseInt(g, 16));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const groups =
    halves.length === 2
      ? [...head, ...new Array<number>(Math.max(0, 8 - head.length - rest.length)).fill(0), ...rest]
      : head;
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff))
    throw new EncodeError(`bad IPv6 address ${s}`);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

function hexBytes(s: string): Uint8Array {
  const clean = s.replace(/[:\s-]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new EncodeError(`bad hex ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Seconds between the NTP era 0 epoch (1900) and the Unix epoch. */
const NTP_OFFSET = 2208988800;

function writeNtp(w: ByteWriter, ms: number): void {
  const secs = Math.floor(ms / 1000);
  const frac = Math.round(((ms - secs * 1000) / 1000) * 2 ** 32);
  w.u32((secs + NTP_OFFSET) >>> 0).u32(Math.min(frac, 0xffffffff));
}

/** A scalar value as text (addresses, MACs, hex, strings). */
function text(f: ResolvedField, value: FieldValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return `${value}`;
  throw new EncodeError(`${f.name}: scalar value expected`);
}

/** Context for encoding values: resolves nested templates of structured data. */
interface ListContext {
  v9: boolean;
}

/** Encodes one value of `f` into a fresh byte array (the field's content, without length prefix). */
function valueBytes(f: ResolvedField, value: FieldValue, ctx: ListContext): Uint8Array {
  const w = new ByteWriter();
  const fixed = f.length !== VARLEN;
  switch (f.type) {
    case 'unsigned8':
    case 'unsigned16':
    case 'unsigned32':
    case 'unsigned64':
    case 'unsigned256':
    case 'signed8':
    case 'signed16':
    case 'signed32':
    case 'signed64':
      writeUnsigned(w, value, fixed ? f.length : (NATURAL[f.type] ?? 8));
      break;
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') throw new EncodeError(`${f.name}: number expected`);
      if (f.length === 4) w.f32(value);
      else w.f64(value);
      break;
    case 'boolean':
      w.u8(value === true ? 1 : 2);
      break;
    case 'macAddress':
      w.bytes(hexBytes(text(f, value)));
      break;
    case 'ipv4Address':
      for (const o of parseIpv4(text(f, value))) w.u8(o);
      break;
    case 'ipv6Address':
      w.bytes(parseIpv6(text(f, value)));
      break;
    case 'dateTimeSeconds':
      writeUnsigned(w, Math.floor(Number(value) / 1000), fixed ? f.length : 4);
      break;
    case 'dateTimeMilliseconds':
      writeUnsigned(w, Math.floor(Number(value)), fixed ? f.length : 8);
      break;
    case 'dateTimeMicroseconds':
    case 'dateTimeNanoseconds':
      writeNtp(w, Number(value));
      break;
    case 'string':
      w.bytes(new TextEncoder().encode(text(f, value)));
      break;
    case 'octetArray':
      w.bytes(hexBytes(text(f, value)));
      break;
    case 'basicList':
    case 'subTemplateList':
    case 'subTemplateMultiList':
      writeList(w, f, value, ctx);
      break;
  }
  const b = w.finish();
  if (!fixed) return b;
  if (b.length > f.length) {
    // Reduced-size encoding keeps the low-order bytes of integers (RFC 7011 section 6.2).
    if (f.type.startsWith('unsigned') || f.type.startsWith('signed') || f.type.startsWith('dateTime'))
      return b.subarray(b.length - f.length);
    throw new EncodeError(`${f.name}: value needs ${b.length} bytes, field has ${f.length}`);
  }
  if (b.length < f.length) {
    // Fixed-length strings and octet arrays are padded with zeros.
    const p = new Uint8Array(f.length);
    p.set(b);
    return p;
  }
  return b;
}

function writeList(w: ByteWriter, f: ResolvedField, value: FieldValue, ctx: ListContext): void {
  const spec = f.list;
  if (!spec) throw new EncodeError(`${f.name}: structured data needs a list spec`);
  if (!Array.isArray(value)) throw new EncodeError(`${f.name}: array expected`);
  w.u8(spec.semantic ?? 0xff);
  if (spec.kind === 'basicList') {
    const el = resolveField(spec.element);
    writeSpecifier(w, el, false);
    for (const v of value) writeFieldValue(w, el, v, ctx);
  } else if (spec.kind === 'subTemplateList') {
    const fields = resolveTemplate(spec.template, false);
    w.u16(spec.template.templateId);
    for (const v of value) writeRecord(w, fields, asFields(v), ctx);
  } else {
    const templates = spec.templates.map((t) => ({ t, fields: resolveTemplate(t, false) }));
    // Consecutive elements with the same template share one header (RFC 6313 section 4.5.4).
    let i = 0;
    while (i < value.length) {
      const rec = asFields(value[i]!);
      const keys = Object.keys(rec).sort().join(',');
      const m = templates.find(
        (x) =>
          x.fields
            .map((g) => g.name)
            .sort()
            .join(',') === keys,
      );
      if (!m) throw new EncodeError(`${f.name}: no template matches element ${i}`);
      const body = new ByteWriter();
      while (i < value.length && Object.keys(asFields(value[i]!)).sort().join(',') === keys) {
        writeRecord(body, m.fields, asFields(value[i]!), ctx);
        i++;
      }
      w.u16(m.t.templateId)
        .u16(4 + body.length)
        .bytes(body.finish());
    }
  }
}

function asFields(v: FieldValue): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EncodeError('field object expected');
  return v;
}

/** Writes one field's value, with the IPFIX variable-length prefix when its length is 65535. */
export function writeFieldValue(w: ByteWriter, f: ResolvedField, value: FieldValue, ctx: ListContext): void {
  const b = valueBytes(f, value, ctx);
  if (f.length === VARLEN && !ctx.v9) {
    if (b.length < 255) w.u8(b.length);
    else w.u8(255).u16(b.length);
  }
  w.bytes(b);
}

/** Zero value used for fields a record does not give. */
function zeroOf(f: ResolvedField): FieldValue {
  switch (f.type) {
    case 'ipv4Address':
      return '0.0.0.0';
    case 'ipv6Address':
      return '::';
    case 'macAddress':
      return '00:00:00:00:00:00';
    case 'string':
    case 'octetArray':
      return '';
    case 'boolean':
      return false;
    case 'basicList':
    case 'subTemplateList':
    case 'subTemplateMultiList':
      return [];
    default:
      return 0;
  }
}

/**
 * Writes one record. Values are looked up by element name; a name repeated in the template is
 * looked up as `name_2`, `name_3`... as the decoder prints repeated fields. Missing values are zero.
 */
export function writeRecord(w: ByteWriter, fields: ResolvedField[], rec: Fields, ctx: ListContext): void {
  const seen = new Map<string, number>();
  for (const f of fields) {
    const n = (seen.get(f.name) ?? 0) + 1;
    seen.set(f.name, n);
    const key = n === 1 ? f.name : `${f.name}_${n}`;
    writeFieldValue(w, f, rec[key] ?? zeroOf(f), ctx);
  }
}
