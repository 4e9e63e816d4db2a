/**
 * Template compilation. A template's field list becomes a `TemplateShape`: the fields resolved
 * against the IE registry, lengths, and — compiled lazily, once per distinct field list and shared
 * by every exporter sending it — two specialised functions generated from the field list:
 *
 *  - `full`: one data record -> a `FlowRecord` with a fixed object-literal shape;
 *  - `batch`: a whole data set -> rows of a `FlowBatch` (integers only, no allocation per record).
 *
 * Generated code only ever embeds integers and JSON-quoted names (from the registry), never bytes
 * from the wire. Options records, list elements and anything unusual go through the interpreter
 * (`decodeGeneric`), which is also the reference the generated code is tested against.
 */
import type { DecodedRecord, FieldValue, Fields, FlowBatch, Observation } from '../../common/schema/index.ts';
import type { RecordProtocol } from '../../common/schema/index.ts';
import { ieFor, ieForV9, REVERSE_PEN } from './ie/registry.ts';
import type { IeDataType, IeDef } from './ie/types.ts';
import { MAX_LIST_DEPTH, MAX_LIST_ELEMENTS, MAX_VARIABLE_LENGTH } from './limits.ts';
import { V9_SCOPE_NAMES } from './netflow9.ts';
import {
  float32At,
  float64At,
  hexAt,
  ipv4At,
  ipv4String,
  ipv6At,
  ipv6FromWords,
  macAt,
  ntpAt,
  signedAt,
  stringAt,
  u64At,
  unsignedAt,
  unsignedFloatAt,
} from './values.ts';

/** One field specifier as it came off the wire (v9: enterprise 0). */
export interface FieldSpecifier {
  id: number;
  length: number;
  enterprise: number;
}

/** IPFIX's variable-length marker (RFC 7011 section 7). */
export const VARIABLE_LENGTH = 65535;

/** A field resolved against the registry. */
export interface ShapeField {
  readonly spec: FieldSpecifier;
  readonly def: IeDef;
  /** Output name: the element's name, `name_2`, `name_3`... for repeats within the template. */
  readonly name: string;
  readonly variable: boolean;
}

/** Generated per-record decoder producing a full flow record; null when the record is malformed. */
export type FullFn = (b: Uint8Array, o: number, end: number, X: RecordContext) => DecodedRecord | null;

/**
 * Generated per-set decoder into a batch. Returns 0 when the set is done, 1 when the batch filled
 * up (flush, then call again from `X.next`), 2 when a record was malformed (`X.err`).
 */
export type BatchFn = (b: Uint8Array, o: number, end: number, B: FlowBatch, X: RecordContext) => number;

/** A compiled template: resolved fields and lazily generated decoders. */
export interface TemplateShape {
  readonly key: string;
  readonly protocol: 'netflow9' | 'ipfix';
  readonly scopeCount: number;
  readonly fields: readonly ShapeField[];
  /** Record length when every field is fixed-length, else -1. */
  readonly fixedLength: number;
  /** Smallest possible record (variable-length fields count their 1-byte prefix); >= 1. */
  readonly minLength: number;
  full?: FullFn;
  batch?: BatchFn;
}

/** A template as held by a session, for lookups from structured data (subTemplateList). */
export interface TemplateLookup {
  get(templateId: number): { shape: TemplateShape } | undefined;
}

/**
 * Size of the copy `RecordContext.view` reads through: every UDP datagram and every IPFIX message
 * (16-bit length) fits.
 */
const VIEW_SCRATCH_BYTES = 65536;

const EMPTY_OBS: Observation = {
  exporter: '',
  observationDomainId: 0,
  templateId: 0,
  sequence: 0,
  exportTime: 0,
};
const NO_TEMPLATES: TemplateLookup = { get: () => undefined };

/**
 * Mutable per-set context handed to compiled decoders (one per session, reset per set), so that
 * decoders need no closures or allocations of their own.
 */
export class RecordContext {
  protocol: RecordProtocol = 'ipfix';
  obs: Observation = EMPTY_OBS;
  /** Index of the next record within its message. */
  recordIndex = 0;
  /** Export time of the message (epoch ms). */
  exportMs = 0;
  /** v5/v9 header sysUptime (ms); NaN for IPFIX. */
  sysUptime = NaN;
  /** IPFIX systemInitTimeMilliseconds known from options data; NaN when unknown. */
  sysInit = NaN;
  /** Effective sampling interval for records that carry no sampling field or sampler id. */
  rate = 1;
  /** Sampler/selector id -> interval, for records that name their sampler. */
  samplers: ReadonlyMap<number | string, number> = new Map();
  /** Templates of the same exporter/domain, for subTemplateList / subTemplateMultiList. */
  templates: TemplateLookup = NO_TEMPLATES;
  /** View of the bytes of `dvBytes` (see `view`); the full-record decoders read through it. */
  dv: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  /** The bytes `dv` currently shows. */
  dvBytes: Uint8Array | null = null;
  /** A copy of the message being decoded, read through one DataView made once (see `view`). */
  private readonly scratch = new Uint8Array(VIEW_SCRATCH_BYTES);
  private readonly scratchView = new DataView(this.scratch.buffer);
  /** Offset after the last decoded record (set by decoders). */
  next = 0;
  /** Reason of the last failure (set by decoders when they return null / 2). */
  err = '';
  /** Current list nesting depth and remaining list element budget. */
  depth = 0;
  listBudget = 0;
  /** Batch row identity. */
  exporterIndex = 0;
  domainId = 0;
  templateId = 0;
  sequence = 0;
  /** Most records the batch decoder may still take from this set (MAX_RECORDS_PER_SET). */
  recordsLeft = 0;

  /**
   * A DataView showing the bytes of `b` at the same offsets. Making a DataView costs more here
   * (about 150-250 ns) than copying a whole datagram (about 100 ns for 1400 bytes), so messages
   * up to VIEW_SCRATCH_BYTES are copied into a scratch buffer with a permanent view; larger ones
   * get a view of their own. Offsets beyond `b.length` must not be read: callers bound every read
   * by the message length, never by the view's.
   */
  view(b: Uint8Array): DataView<ArrayBufferLike> {
    if (this.dvBytes !== b) {
      if (b.length <= VIEW_SCRATCH_BYTES) {
        this.scratch.set(b);
        this.dv = this.scratchView;
      } else this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.dvBytes = b;
    }
    return this.dv;
  }
}

/** Signature of a field list: templates with equal keys share one compiled shape. */
export function shapeKey(protocol: string, scopeCount: number, fields: readonly FieldSpecifier[]): string {
  let k = `${protocol}|${scopeCount}|`;
  for (const f of fields) k += `${f.enterprise}:${f.id}:${f.length},`;
  return k;
}

function v9ScopeDef(type: number, length: number): IeDef {
  return {
    enterprise: 0,
    id: type,
    name: V9_SCOPE_NAMES[type] ?? `scope${type}`,
    type: length >= 1 && length <= 8 ? 'unsigned64' : 'octetArray',
  };
}

/** Resolves a field list into a shape (decoders are generated later, on first use). */
export function buildShape(
  protocol: 'netflow9' | 'ipfix',
  scopeCount: number,
  specs: readonly FieldSpecifier[],
): TemplateShape {
  const seen = new Map<string, number>();
  let fixed = 0;
  let min = 0;
  let variable = false;
  const fields = specs.map((spec, i): ShapeField => {
    const def =
      protocol === 'netflow9'
        ? i < scopeCount
          ? v9ScopeDef(spec.id, spec.length)
          : ieForV9(spec.id)
        : ieFor(spec.enterprise, spec.id);
    const n = (seen.get(def.name) ?? 0) + 1;
    seen.set(def.name, n);
    const isVar = protocol === 'ipfix' && spec.length === VARIABLE_LENGTH;
    if (isVar) {
      variable = true;
      min += 1;
    } else {
      fixed += spec.length;
      min += spec.length;
    }
    return { spec, def, name: n === 1 ? def.name : `${def.name}_${n}`, variable: isVar };
  });
  return {
    key: shapeKey(protocol, scopeCount, specs),
    protocol,
    scopeCount,
    fields,
    fixedLength: variable ? -1 : fixed,
    minLength: min,
  };
}

// ---------------------------------------------------------------------------------------------
// Interpreter: any type at any length. Used for options records, list elements, variable-length
// fields of unusual types, and as the reference for the generated code.

/**
 * Decodes one value of data type `type` from `len` bytes at `o`. Lengths the type does not allow
 * (e.g. a 3-byte IPv4 address) give the bytes as hex rather than a wrong value. Returns null (with
 * `X.err`) only for malformed structured data.
 */
export function decodeValue(
  type: IeDataType,
  b: Uint8Array,
  o: number,
  len: number,
  X: RecordContext,
): FieldValue | null {
  switch (type) {
    case 'unsigned8':
    case 'unsigned16':
    case 'unsigned32':
    case 'unsigned64':
    case 'unsigned256':
      return len >= 1 && len <= 8 ? unsignedAt(b, o, len) : hexAt(b, o, len);
    case 'signed8':
    case 'signed16':
    case 'signed32':
    case 'signed64':
      return len >= 1 && len <= 8 ? signedAt(b, o, len) : hexAt(b, o, len);
    case 'float32':
      return len === 4 ? float32At(b, o) : hexAt(b, o, len);
    case 'float64':
      // Reduced-size encoding sends a float64 as a float32 (RFC 7011 section 6.2).
      return len === 8 ? float64At(b, o) : len === 4 ? float32At(b, o) : hexAt(b, o, len);
    case 'boolean':
      return len === 1 ? b[o] === 1 : hexAt(b, o, len);
    case 'macAddress':
      return len === 6 ? macAt(b, o) : hexAt(b, o, len);
    case 'ipv4Address':
      return len === 4 ? ipv4At(b, o) : hexAt(b, o, len);
    case 'ipv6Address':
      return len === 16 ? ipv6At(b, o) : hexAt(b, o, len);
    case 'dateTimeSeconds':
      return len >= 1 && len <= 8 ? unsignedFloatAt(b, o, len) * 1000 : hexAt(b, o, len);
    case 'dateTimeMilliseconds':
      return len >= 1 && len <= 8 ? unsignedFloatAt(b, o, len) : hexAt(b, o, len);
    case 'dateTimeMicroseconds':
    case 'dateTimeNanoseconds':
      return len === 8 ? ntpAt(b, o) : hexAt(b, o, len);
    case 'string':
      return stringAt(b, o, len);
    case 'octetArray':
      return hexAt(b, o, len);
    case 'basicList':
    case 'subTemplateList':
    case 'subTemplateMultiList':
      return decodeList(type, b, o, len, X);
    default:
      // A data type added to the registry later: its bytes, rather than a guess.
      return hexAt(b, o, len);
  }
}

function isList(t: IeDataType): boolean {
  return t === 'basicList' || t === 'subTemplateList' || t === 'subTemplateMultiList';
}

/**
 * Reads a variable-length prefix at `p` (RFC 7011 section 7: one byte, or 255 and two bytes).
 * Returns the content length and stores the content offset in `X.next`; -1 when truncated.
 */
function readVarLen(b: Uint8Array, p: number, end: number, X: RecordContext): number {
  if (p >= end) return -1;
  let L = b[p++]!;
  if (L === 255) {
    if (p + 2 > end) return -1;
    L = (b[p]! << 8) | b[p + 1]!;
    p += 2;
  }
  X.next = p;
  return L;
}

/**
 * Interprets one record of `shape` at `o` (bounded by `end`) into `fields` (and the scope fields
 * into `scope` when given). Returns false with `X.err` when truncated or malformed; on success
 * `X.next` is the offset after the record.
 */
export function decodeGeneric(
  shape: TemplateShape,
  b: Uint8Array,
  o: number,
  end: number,
  X: RecordContext,
  scope: Fields | null,
  fields: Fields,
): boolean {
  let p = o;
  const fs = shape.fields;
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i]!;
    let L = f.spec.length;
    if (f.variable) {
      L = readVarLen(b, p, end, X);
      if (L < 0) {
        X.err = 'record-truncated';
        return false;
      }
      p = X.next;
      if (L > MAX_VARIABLE_LENGTH && !isList(f.def.type)) {
        X.err = 'varlen-too-long';
        return false;
      }
    }
    if (p + L > end) {
      X.err = 'record-truncated';
      return false;
    }
    const v = decodeValue(f.def.type, b, p, L, X);
    if (v === null) return false;
    if (scope !== null && i < shape.scopeCount) scope[f.name] = v;
    else fields[f.name] = v;
    p += L;
  }
  X.next = p;
  return true;
}

/** RFC 6313 structured data into arrays; bounded by MAX_LIST_DEPTH and MAX_LIST_ELEMENTS. */
function decodeList(
  type: 'basicList' | 'subTemplateList' | 'subTemplateMultiList',
  b: Uint8Array,
  o: number,
  len: number,
  X: RecordContext,
): FieldValue[] | null {
  if (X.depth >= MAX_LIST_DEPTH) {
    X.err = 'list-too-deep';
    return null;
  }
  if (X.depth === 0) X.listBudget = MAX_LIST_ELEMENTS;
  X.depth++;
  const r = decodeListBody(type, b, o, o + len, X);
  X.depth--;
  return r;
}

function decodeListBody(
  type: 'basicList' | 'subTemplateList' | 'subTemplateMultiList',
  b: Uint8Array,
  o: number,
  end: number,
  X: RecordContext,
): FieldValue[] | null {
  const out: FieldValue[] = [];
  let p = o + 1; // semantic
  if (p > end) return listFail(X, 'list-malformed');
  if (type === 'basicList') {
    if (p + 4 > end) return listFail(X, 'list-malformed');
    const rawId = (b[p]! << 8) | b[p + 1]!;
    const elemLen = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
    let pen = 0;
    if (rawId & 0x8000) {
      if (p + 4 > end) return listFail(X, 'list-malformed');
      pen = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      p += 4;
    }
    if (elemLen === 0) return listFail(X, 'list-malformed');
    const def = ieFor(pen, rawId & 0x7fff);
    while (p < end) {
      if (--X.listBudget < 0) return listFail(X, 'list-too-many-elements');
      let L = elemLen;
      if (elemLen === VARIABLE_LENGTH) {
        L = readVarLen(b, p, end, X);
        if (L < 0) return listFail(X, 'list-malformed');
        p = X.next;
        if (L > MAX_VARIABLE_LENGTH && !isList(def.type)) return listFail(X, 'varlen-too-long');
      }
      if (p + L > end) return listFail(X, 'list-malformed');
      const v = decodeValue(def.type, b, p, L, X);
      if (v === null) return null;
      out.push(v);
      p += L;
    }
    return out;
  }
  if (type === 'subTemplateList') {
    if (p + 2 > end) return listFail(X, 'list-malformed');
    const tid = (b[p]! << 8) | b[p + 1]!;
    p += 2;
    if (p === end) return out;
    const t = X.templates.get(tid);
    if (!t) return listFail(X, 'list-template-missing');
    if (!subRecords(t.shape, b, p, end, X, out)) return null;
    return out;
  }
  while (p < end) {
    if (p + 4 > end) return listFail(X, 'list-malformed');
    const tid = (b[p]! << 8) | b[p + 1]!;
    const slen = (b[p + 2]! << 8) | b[p + 3]!;
    if (slen < 4 || p + slen > end) return listFail(X, 'list-malformed');
    if (slen > 4) {
      const t = X.templates.get(tid);
      if (!t) return listFail(X, 'list-template-missing');
      if (!subRecords(t.shape, b, p + 4, p + slen, X, out)) return null;
    }
    p += slen;
  }
  return out;
}

function subRecords(
  shape: TemplateShape,
  b: Uint8Array,
  p: number,
  end: number,
  X: RecordContext,
  out: FieldValue[],
): boolean {
  while (p < end) {
    if (--X.listBudget < 0) {
      X.err = 'list-too-many-elements';
      return false;
    }
    const rec: Fields = {};
    if (!decodeGeneric(shape, b, p, end, X, null, rec)) return false;
    out.push(rec);
    p = X.next;
  }
  return true;
}

function listFail(X: RecordContext, reason: string): null {
  X.err = reason;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Code generation.

/** Helpers the generated code calls (passed in once per compiled function). */
const H = {
  ipv4String,
  ipv6FromWords,
  u64At,
  unsignedAt,
  signedAt,
  macAt,
  hexAt,
  stringAt,
  float32At,
  float64At,
  ntpAt,
  unsignedFloatAt,
  decodeValue,
  rate(X: RecordContext, id: number | string): number {
    const r = X.samplers.get(id);
    return r === undefined ? X.rate : r;
  },
};

/**
 * Statements declaring `v<i>`, the full value of fixed-length field `f` at offset expression `P`.
 * Integers are read through the DataView `dv` (one bounds check per read instead of per byte).
 */
function fixedValueCode(f: ShapeField, i: number, P: string): string {
  const len = f.spec.length;
  const t = f.def.type;
  const v = `const v${i}=`;
  switch (t) {
    case 'unsigned8':
    case 'unsigned16':
    case 'unsigned32':
    case 'unsigned64':
      if (len >= 1 && len <= 6) return `${v}${dvUint(P, len)};\n`;
      if (len === 8)
        // Numbers up to 2^53-1, decimal strings beyond (record.ts).
        return `const h${i}=dv.getUint32(${P});\n${v}h${i}<2097152?h${i}*4294967296+dv.getUint32(${P}+4):H.u64At(b,${P});\n`;
      break;
    case 'signed8':
      if (len === 1) return `${v}dv.getInt8(${P});\n`;
      break;
    case 'signed16':
      if (len === 2) return `${v}dv.getInt16(${P});\n`;
      if (len === 1) return `${v}dv.getInt8(${P});\n`;
      break;
    case 'signed32':
      if (len === 4) return `${v}dv.getInt32(${P});\n`;
      if (len === 2) return `${v}dv.getInt16(${P});\n`;
      if (len === 1) return `${v}dv.getInt8(${P});\n`;
      break;
    case 'ipv4Address':
      if (len === 4) return `${v}H.ipv4String(dv.getUint32(${P}));\n`;
      break;
    case 'ipv6Address':
      if (len === 16)
        return `${v}H.ipv6FromWords(dv.getUint32(${P}),dv.getUint32(${P}+4),dv.getUint32(${P}+8),dv.getUint32(${P}+12));\n`;
      break;
    case 'macAddress':
      if (len === 6) return `${v}H.macAt(b,${P});\n`;
      break;
    case 'boolean':
      if (len === 1) return `${v}b[${P}]===1;\n`;
      break;
    case 'dateTimeSeconds':
      if (len >= 1 && len <= 4) return `${v}${dvUint(P, len)}*1000;\n`;
      break;
    case 'dateTimeMilliseconds':
      if (len >= 1 && len <= 8) return `${v}${dvUint(P, len)};\n`;
      break;
    case 'float32':
      if (len === 4) return `${v}dv.getFloat32(${P});\n`;
      break;
    case 'float64':
      if (len === 8) return `${v}dv.getFloat64(${P});\n`;
      if (len === 4) return `${v}dv.getFloat32(${P});\n`;
      break;
    case 'dateTimeMicroseconds':
    case 'dateTimeNanoseconds':
      if (len === 8) return `${v}H.ntpAt(b,${P});\n`;
      break;
    case 'string':
      return `${v}H.stringAt(b,${P},${len});\n`;
    case 'octetArray':
      return `${v}H.hexAt(b,${P},${len});\n`;
    default:
      break;
  }
  const nullable = isList(t) ? `if(v${i}===null)return null;\n` : '';
  return `${v}H.decodeValue(${JSON.stringify(t)},b,${P},${len},X);\n${nullable}`;
}

/** Field numbers (enterprise 0) the code generator treats specially. */
const IE = {
  octets: 1,
  packets: 2,
  proto: 4,
  tos: 5,
  flags: 6,
  srcPort: 7,
  src4: 8,
  inIf: 10,
  dstPort: 11,
  dst4: 12,
  outIf: 14,
  srcAs: 16,
  dstAs: 17,
  endUp: 21,
  startUp: 22,
  src6: 27,
  dst6: 28,
  icmp4: 32,
  samplingInterval: 34,
  samplerId: 48,
  minTtl: 52,
  maxTtl: 53,
  octetsTotal: 85,
  packetsTotal: 86,
  icmp6: 139,
  startS: 150,
  endS: 151,
  startMs: 152,
  endMs: 153,
  startUs: 154,
  endUs: 155,
  startNs: 156,
  endNs: 157,
  startDeltaUs: 158,
  endDeltaUs: 159,
  sysInit: 160,
  icmpType4: 176,
  icmpCode4: 177,
  icmpType6: 178,
  icmpCode6: 179,
  ipTtl: 192,
  selectorId: 302,
  packetInterval: 305,
  packetSpace: 306,
  populationSize: 310,
  sampleSize: 309,
} as const;

/** Where each interesting element sits in the field list (first occurrence, fixed sizes only). */
interface FieldIndex {
  /** enterprise/id -> field position */
  readonly at: Map<string, number>;
}

function indexFields(shape: TemplateShape): FieldIndex {
  const at = new Map<string, number>();
  // Keyed by the resolved element, so v9 vendor types that stand for an IANA element map too.
  // Scope fields describe what options data is about, never the flow itself: skipped.
  shape.fields.forEach((f, i) => {
    if (i < shape.scopeCount) return;
    const k = `${f.def.enterprise}/${f.def.id}`;
    if (!at.has(k)) at.set(k, i);
  });
  return { at };
}

/**
 * Emits the record-walking part shared by both generated decoders: for each field, statements that
 * bounds-check (variable-length templates only), then call `use(field, index, P, L)` to emit code
 * using the value at offset expression P (length expression L).
 */
function walkCode(
  shape: TemplateShape,
  use: (f: ShapeField, i: number, P: string, L: string) => string,
  fail: (reason: string) => string,
): string {
  let code = '';
  if (shape.fixedLength >= 0) {
    let off = 0;
    shape.fields.forEach((f, i) => {
      code += use(f, i, `o+${off}`, String(f.spec.length));
      off += f.spec.length;
    });
    return code;
  }
  // Variable-length template: a running offset `p`, checked before every read.
  code += 'let p=o,L=0;\n';
  let run: { f: ShapeField; i: number }[] = [];
  const flush = (): void => {
    if (run.length === 0) return;
    const total = run.reduce((s, x) => s + x.f.spec.length, 0);
    code += `if(p+${total}>end){${fail('record-truncated')}}\n`;
    let off = 0;
    for (const { f, i } of run) {
      code += use(f, i, `p+${off}`, String(f.spec.length));
      off += f.spec.length;
    }
    code += `p+=${total};\n`;
    run = [];
  };
  shape.fields.forEach((f, i) => {
    if (!f.variable) {
      run.push({ f, i });
      return;
    }
    flush();
    code += `if(p>=end){${fail('record-truncated')}}\nL=b[p++];\n`;
    code += `if(L===255){if(p+2>end){${fail('record-truncated')}}L=b[p]<<8|b[p+1];p+=2;}\n`;
    code += `if(p+L>end){${fail('record-truncated')}}\n`;
    if (!isList(f.def.type)) code += `if(L>${MAX_VARIABLE_LENGTH}){${fail('varlen-too-long')}}\n`;
    code += use(f, i, 'p', 'L');
    code += 'p+=L;\n';
  });
  flush();
  return code;
}

/** Statements declaring `v<i>` for a variable-length field at P with length L. */
function varValueCode(f: ShapeField, i: number, P: string, L: string): string {
  if (f.def.type === 'string') return `const v${i}=H.stringAt(b,${P},${L});\n`;
  if (f.def.type === 'octetArray') return `const v${i}=H.hexAt(b,${P},${L});\n`;
  return (
    `const v${i}=H.decodeValue(${JSON.stringify(f.def.type)},b,${P},${L},X);\n` +
    `if(v${i}===null)return null;\n`
  );
}

/** Integer expression (for batch columns) of a fixed integer field, or null if unsuitable. */
function intField(
  shape: TemplateShape,
  idx: FieldIndex,
  id: number,
  pen = 0,
): { i: number; len: number } | null {
  const i = idx.at.get(`${pen}/${id}`);
  if (i === undefined) return null;
  const f = shape.fields[i]!;
  if (f.variable || f.spec.length < 1 || f.spec.length > 8) return null;
  return { i, len: f.spec.length };
}

/** Picks the first present of several alternative elements (by priority). */
function firstOf(
  shape: TemplateShape,
  idx: FieldIndex,
  ids: readonly number[],
  pen = 0,
): { id: number; i: number; len: number } | null {
  for (const id of ids) {
    const r = intField(shape, idx, id, pen);
    if (r) return { id, ...r };
  }
  return null;
}

/**
 * Sampling of a record as an expression over the field variables `vK` (full) or `nK` (batch):
 * own sampling fields first, then the sampler the record names, then the set default `X.rate`.
 */
function samplingExpr(
  shape: TemplateShape,
  idx: FieldIndex,
  ref: (i: number) => string,
  dflt = 'X.rate',
): string {
  const si = intField(shape, idx, IE.samplingInterval);
  const pi = intField(shape, idx, IE.packetInterval);
  const ps = intField(shape, idx, IE.packetSpace);
  const pop = intField(shape, idx, IE.populationSize);
  const ss = intField(shape, idx, IE.sampleSize);
  const sid = intField(shape, idx, IE.samplerId) ?? intField(shape, idx, IE.selectorId);
  let e = sid ? `H.rate(X,${ref(sid.i)})` : dflt;
  if (pop && ss) e = `(${ref(ss.i)}>0&&${ref(pop.i)}>=${ref(ss.i)}?${ref(pop.i)}/${ref(ss.i)}:${e})`;
  if (pi && ps) e = `(${ref(pi.i)}>0?(${ref(pi.i)}+${ref(ps.i)})/${ref(pi.i)}:${e})`;
  if (si) e = `(${ref(si.i)}>0?${ref(si.i)}:${e})`;
  return e;
}

/**
 * Absolute start/end (epoch ms) expressions derived from sysUpTime-relative fields 22/21:
 * v9 against the header's sysUptime; IPFIX against systemInitTimeMilliseconds (160) in the record
 * or known from options data. Null when the template has no such field.
 */
function upTimeExpr(
  shape: TemplateShape,
  idx: FieldIndex,
  id: number,
  ref: (i: number) => string,
): { expr: string; guard: string } | null {
  const f = intField(shape, idx, id);
  if (!f) return null;
  if (shape.protocol === 'netflow9') {
    // Signed 32-bit difference: correct across the uptime counter's wrap.
    return { expr: `X.exportMs-((X.sysUptime-${ref(f.i)})|0)`, guard: '' };
  }
  const init = intField(shape, idx, IE.sysInit);
  if (init) return { expr: `${ref(init.i)}+${ref(f.i)}`, guard: '' };
  return { expr: `X.sysInit+${ref(f.i)}`, guard: 'X.sysInit===X.sysInit' };
}

function compile<F>(source: string): F {
  // Generated from integers and registry names only (see the file comment); the only place where
  // code is built at run time, because a specialised function per template is ~5x faster than
  // interpreting the field list per record (bench/decode.ts).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('H', source) as (h: typeof H) => F;
  return factory(H);
}

/** Generates (once) the full-record decoder of a flow template. */
export function fullDecoder(shape: TemplateShape): FullFn {
  if (shape.full) return shape.full;
  const idx = indexFields(shape);
  const ref = (i: number): string => `v${i}`;
  const fail = (reason: string): string => `X.err=${JSON.stringify(reason)};return null;`;
  let body = 'const dv=X.view(b);\n';
  body += walkCode(
    shape,
    (f, i, P, L) => (f.variable ? varValueCode(f, i, P, L) : fixedValueCode(f, i, P)),
    fail,
  );
  body += shape.fixedLength >= 0 ? `X.next=o+${shape.fixedLength};\n` : 'X.next=p;\n';
  const props = shape.fields.map((f, i) => `${JSON.stringify(f.name)}:v${i}`);
  const extra: string[] = [];
  const names = new Set(shape.fields.map((f) => f.name));
  for (const [id, name] of [
    [IE.startUp, 'flowStartMilliseconds'],
    [IE.endUp, 'flowEndMilliseconds'],
  ] as const) {
    if (names.has(name)) continue;
    const t = upTimeExpr(shape, idx, id, ref);
    if (!t) continue;
    if (t.guard === '') props.push(`${JSON.stringify(name)}:${t.expr}`);
    else extra.push(`if(${t.guard})F[${JSON.stringify(name)}]=${t.expr};`);
  }
  body += `const F={${props.join(',')}};\n${extra.join('\n')}\n`;
  body +=
    `return {recordType:'flow',protocol:X.protocol,observation:X.obs,recordIndex:X.recordIndex++,` +
    `samplingInterval:${samplingExpr(shape, idx, ref)},fields:F};`;
  const source = `return function full(b,o,end,X){\n${body}\n};`;
  shape.full = compile<FullFn>(source);
  return shape.full;
}

/**
 * Columns of `FlowBatch` the batch decoder writes on every row (all of them, so that rows need no
 * separate zeroing pass). A test checks this list against the class.
 */
export const BATCH_COLUMNS = [
  'ipVersion',
  'src',
  'dst',
  'srcPort',
  'dstPort',
  'proto',
  'tcpFlags',
  'octets',
  'packets',
  'revOctets',
  'revPackets',
  'start',
  'end',
  'minTtl',
  'maxTtl',
  'inIf',
  'outIf',
  'srcAs',
  'dstAs',
  'icmpTypeCode',
  'samplingInterval',
  'exporterIndex',
  'observationDomainId',
  'templateId',
  'sequence',
  'recordIndex',
] as const;

/** Unsigned big-endian integer of 1-8 bytes read through the DataView `dv`, as a JS expression. */
function dvUint(P: string, len: number): string {
  switch (len) {
    case 1:
      return `dv.getUint8(${P})`;
    case 2:
      return `dv.getUint16(${P})`;
    case 3:
      return `(dv.getUint16(${P})*256+dv.getUint8(${P}+2))`;
    case 4:
      return `dv.getUint32(${P})`;
    default:
      return `(${dvUint(P, len - 4)}*4294967296+dv.getUint32(${P}+${len - 4}))`;
  }
}

/** Generates (once) the batch decoder of a flow template. */
export function batchDecoder(shape: TemplateShape): BatchFn {
  if (shape.batch) return shape.batch;
  const idx = indexFields(shape);
  const ref = (i: number): string => `n${i}`;
  // Field values the batch needs, read into locals nK (length), or offsets qK (negative marker).
  const needed = new Map<number, number>();
  const need = (x: { i: number; len: number } | null): string | null => {
    if (!x) return null;
    needed.set(x.i, x.len);
    return ref(x.i);
  };
  const col: Record<string, string> = {};
  const set = (name: string, expr: string | null): void => {
    if (expr !== null) col[name] = expr;
  };

  // Addresses: IPv6 when the template carries it, else IPv4.
  const words: Record<'src' | 'dst', string[] | null> = { src: null, dst: null };
  let ipVersion = '0';
  for (const [column, v4id, v6id] of [
    ['src', IE.src4, IE.src6],
    ['dst', IE.dst4, IE.dst6],
  ] as const) {
    const k6 = idx.at.get(`0/${v6id}`);
    const f6 = k6 === undefined ? undefined : shape.fields[k6];
    if (k6 !== undefined && f6 && !f6.variable && f6.spec.length === 16) {
      needed.set(k6, -1);
      words[column] = [0, 1, 2, 3].map((w) => `dv.getUint32(q${k6}+${w * 4})`);
      ipVersion = '6';
      continue;
    }
    const f4 = intField(shape, idx, v4id);
    if (f4 && f4.len === 4) {
      words[column] = [need(f4)!, '0', '0', '0'];
      if (ipVersion === '0') ipVersion = '4';
    }
  }

  set('srcPort', need(intField(shape, idx, IE.srcPort)));
  set('dstPort', need(intField(shape, idx, IE.dstPort)));
  set('proto', need(intField(shape, idx, IE.proto)));
  set('tcpFlags', need(intField(shape, idx, IE.flags)));
  set('octets', need(firstOf(shape, idx, [IE.octets, IE.octetsTotal])));
  set('packets', need(firstOf(shape, idx, [IE.packets, IE.packetsTotal])));
  set('revOctets', need(firstOf(shape, idx, [IE.octets, IE.octetsTotal], REVERSE_PEN)));
  set('revPackets', need(firstOf(shape, idx, [IE.packets, IE.packetsTotal], REVERSE_PEN)));
  set('minTtl', need(intField(shape, idx, IE.minTtl) ?? intField(shape, idx, IE.ipTtl)));
  set('maxTtl', need(intField(shape, idx, IE.maxTtl) ?? intField(shape, idx, IE.ipTtl)));
  set('inIf', need(intField(shape, idx, IE.inIf)));
  set('outIf', need(intField(shape, idx, IE.outIf)));
  set('srcAs', need(intField(shape, idx, IE.srcAs)));
  set('dstAs', need(intField(shape, idx, IE.dstAs)));
  const icmp = intField(shape, idx, IE.icmp4) ?? intField(shape, idx, IE.icmp6);
  if (icmp) set('icmpTypeCode', need(icmp));
  else {
    const ty = intField(shape, idx, IE.icmpType4) ?? intField(shape, idx, IE.icmpType6);
    const cd = intField(shape, idx, IE.icmpCode4) ?? intField(shape, idx, IE.icmpCode6);
    if (ty && cd) set('icmpTypeCode', `${need(ty)}*256+${need(cd)}`);
  }

  // Times: the most precise absolute element wins, then deltas, then sysUpTime-relative ones.
  const time = (column: string, ids: readonly number[]): void => {
    const [ms, s, us, ns, deltaUs, up] = ids as [number, number, number, number, number, number];
    const a = intField(shape, idx, ms);
    if (a) return set(column, need(a));
    const sec = intField(shape, idx, s);
    if (sec) return set(column, `${need(sec)}*1000`);
    for (const id of [us, ns]) {
      const k = idx.at.get(`0/${id}`);
      if (k !== undefined && !shape.fields[k]!.variable && shape.fields[k]!.spec.length === 8) {
        needed.set(k, -1);
        return set(column, `H.ntpAt(b,q${k})`);
      }
    }
    const d = intField(shape, idx, deltaUs);
    if (d) return set(column, `X.exportMs-${need(d)}/1000`);
    const u = upTimeExpr(shape, idx, up, ref);
    if (u) {
      need(intField(shape, idx, up));
      if (shape.protocol === 'ipfix') need(intField(shape, idx, IE.sysInit));
      set(column, u.guard === '' ? u.expr : `(${u.guard}?${u.expr}:0)`);
    }
  };
  time('start', [IE.startMs, IE.startS, IE.startUs, IE.startNs, IE.startDeltaUs, IE.startUp]);
  time('end', [IE.endMs, IE.endS, IE.endUs, IE.endNs, IE.endDeltaUs, IE.endUp]);

  for (const id of [
    IE.samplingInterval,
    IE.packetInterval,
    IE.packetSpace,
    IE.populationSize,
    IE.sampleSize,
  ]) {
    need(intField(shape, idx, id));
  }
  need(intField(shape, idx, IE.samplerId) ?? intField(shape, idx, IE.selectorId));
  set('samplingInterval', samplingExpr(shape, idx, ref, 'rate'));
  set('exporterIndex', 'ex');
  set('observationDomainId', 'dom');
  set('templateId', 'tid');
  set('sequence', 'seq');
  set('recordIndex', 'ri');
  set('ipVersion', ipVersion);

  // Every column is stored per row, constants included: TypedArray.prototype.fill is a C++
  // builtin whose call costs more (tens of ns, nine columns) than a set's worth of plain stores,
  // as data sets hold only some 20-40 records.
  const writes: string[] = [];
  for (const c of BATCH_COLUMNS) {
    if (c === 'src' || c === 'dst') {
      const w = words[c] ?? ['0', '0', '0', '0'];
      writes.push(w.map((e, k) => `c_${c}[a+${k}]=${e};`).join(''));
    } else writes.push(`c_${c}[i]=${col[c] ?? '0'};`);
  }
  const save = `B.length=i;X.recordIndex=ri;X.recordsLeft=left;X.next=o;`;
  const fail = (reason: string): string => `${save}X.err=${JSON.stringify(reason)};return 2;`;
  const walk = walkCode(
    shape,
    (_f, i, P) => {
      const len = needed.get(i);
      if (len === undefined) return '';
      if (len < 0) return `const q${i}=${P};\n`;
      return `const n${i}=${dvUint(P, len)};\n`;
    },
    fail,
  );
  const head = `const dv=X.view(b);
const cap=B.capacity;
${BATCH_COLUMNS.map((c) => `const c_${c}=B.${c};`).join('')}
const rate=X.rate,ex=X.exporterIndex,dom=X.domainId,tid=X.templateId,seq=X.sequence;
let ri=X.recordIndex,left=X.recordsLeft,i=B.length;
const i0=i;`;
  const row = `${walk}
const a=i*4;
${writes.join('\n')}
i++;ri++;`;
  let source: string;
  const rl = shape.fixedLength;
  if (rl >= 0) {
    // Fixed-length records: how many rows this call writes is known before the loop (records in
    // the set, room in the batch, MAX_RECORDS_PER_SET), so the loop checks nothing else per row.
    source = `return function batch(b,o,end,B,X){
${head}
const avail=end-o>=${rl}?((end-o)/${rl})|0:0;
let n=avail;
if(n>cap-i)n=cap-i;
if(n>left)n=left;
left-=n;
const stop=i+n;
while(i<stop){
${row}
o+=${rl};
}
if(n<avail){
if(i>=cap){${save}return 1;}
${save}X.err='too-many-records';return 2;
}
${save}return 0;
};`;
  } else {
    source = `return function batch(b,o,end,B,X){
${head}
while(o+${shape.minLength}<=end){
if(i>=cap){${save}return 1;}
if(left<=0){${save}X.err='too-many-records';return 2;}
${row}
left--;
o=p;
}
${save}return 0;
};`;
  }
  shape.batch = compile<BatchFn>(source);
  return shape.batch;
}
