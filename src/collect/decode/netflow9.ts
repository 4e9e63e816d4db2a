/**
 * NetFlow v9 packet structure (RFC 3954): header, template flowsets (0), options template
 * flowsets (1, scope fields first), data flowsets (>= 256), padding. Pure parsing; the handler
 * (the session) holds the state.
 */
import { MAX_FIELDS_PER_TEMPLATE, MAX_SETS_PER_MESSAGE } from './limits.ts';
import type { MessageHandler } from './message.ts';
import type { FieldSpecifier } from './template.ts';

/**
 * Names of NetFlow v9 options scope field types (RFC 3954 section 6.1). IANA has no elements for
 * them, so they keep the RFC's names, prefixed `scope` to keep them apart from IPFIX elements.
 */
export const V9_SCOPE_NAMES: Readonly<Record<number, string>> = {
  1: 'scopeSystem',
  2: 'scopeInterface',
  3: 'scopeLineCard',
  4: 'scopeCache',
  5: 'scopeTemplate',
};

/** NetFlow v9 packet header length. */
export const NETFLOW9_HEADER_LENGTH = 20;

/** Walks one NetFlow v9 export packet (RFC 3954). Never throws. */
export function walkNetflow9(b: Uint8Array, h: MessageHandler): void {
  if (b.length < NETFLOW9_HEADER_LENGTH) {
    h.malformed('short-header', 0);
    return;
  }
  const uptime = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
  const secs = ((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0;
  const seq = ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0;
  const source = ((b[16]! << 24) | (b[17]! << 16) | (b[18]! << 8) | b[19]!) >>> 0;
  if (!h.begin('netflow9', source, seq, secs * 1000, uptime)) return;
  // The header's record count is advisory (exporters disagree on what it counts); the flowset
  // lengths are what structure the packet.
  const end = b.length;
  let o = NETFLOW9_HEADER_LENGTH;
  let sets = 0;
  while (end - o >= 4) {
    if (++sets > MAX_SETS_PER_MESSAGE) {
      h.malformed('too-many-sets', o);
      return;
    }
    const setId = (b[o]! << 8) | b[o + 1]!;
    const setLen = (b[o + 2]! << 8) | b[o + 3]!;
    if (setLen < 4 || o + setLen > end) {
      h.malformed('set-length', o);
      return;
    }
    if (setId === 0) templateFlowset(b, o + 4, o + setLen, h);
    else if (setId === 1) optionsTemplateFlowset(b, o + 4, o + setLen, h);
    else if (setId >= 256) h.data(setId, b, o + 4, o + setLen);
    else h.malformed('reserved-set-id', o);
    o += setLen;
  }
  // Fewer than 4 bytes left over are padding.
}

function templateFlowset(b: Uint8Array, start: number, end: number, h: MessageHandler): void {
  let p = start;
  while (end - p >= 4) {
    const tid = (b[p]! << 8) | b[p + 1]!;
    const count = (b[p + 2]! << 8) | b[p + 3]!;
    if (tid === 0 && count === 0) return; // padding
    p += 4;
    if (tid < 256) {
      h.malformed('template-id', p - 4);
      return;
    }
    if (count === 0 || count > MAX_FIELDS_PER_TEMPLATE) {
      h.malformed('template-too-many-fields', p - 2);
      return;
    }
    if (p + count * 4 > end) {
      h.malformed('template-truncated', p);
      return;
    }
    const specs: FieldSpecifier[] = [];
    for (let k = 0; k < count; k++, p += 4) {
      specs.push({ id: (b[p]! << 8) | b[p + 1]!, length: (b[p + 2]! << 8) | b[p + 3]!, enterprise: 0 });
    }
    h.template(tid, 0, specs);
  }
}

function optionsTemplateFlowset(b: Uint8Array, start: number, end: number, h: MessageHandler): void {
  let p = start;
  while (end - p >= 6) {
    const tid = (b[p]! << 8) | b[p + 1]!;
    if (tid === 0) return; // padding
    const scopeLen = (b[p + 2]! << 8) | b[p + 3]!;
    const optLen = (b[p + 4]! << 8) | b[p + 5]!;
    p += 6;
    if (tid < 256) {
      h.malformed('template-id', p - 6);
      return;
    }
    if (scopeLen % 4 !== 0 || optLen % 4 !== 0 || scopeLen === 0) {
      h.malformed('template-scope-count', p - 4);
      return;
    }
    const scopeCount = scopeLen / 4;
    const count = scopeCount + optLen / 4;
    if (count > MAX_FIELDS_PER_TEMPLATE) {
      h.malformed('template-too-many-fields', p - 4);
      return;
    }
    if (p + count * 4 > end) {
      h.malformed('template-truncated', p);
      return;
    }
    const specs: FieldSpecifier[] = [];
    for (let k = 0; k < count; k++, p += 4) {
      specs.push({ id: (b[p]! << 8) | b[p + 1]!, length: (b[p + 2]! << 8) | b[p + 3]!, enterprise: 0 });
    }
    h.template(tid, scopeCount, specs);
  }
}
