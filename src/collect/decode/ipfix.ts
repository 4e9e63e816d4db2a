/**
 * IPFIX message structure (RFC 7011): header, template sets (2), options template sets (3),
 * withdrawals, data sets (>= 256). Pure parsing: everything stateful happens in the handler.
 */
import { MAX_FIELDS_PER_TEMPLATE, MAX_SETS_PER_MESSAGE } from './limits.ts';
import type { MessageHandler } from './message.ts';
import type { FieldSpecifier } from './template.ts';

/** IPFIX message header length. */
export const IPFIX_HEADER_LENGTH = 16;

/** Walks one IPFIX message. Never throws; every length is checked against the buffer and limits. */
export function walkIpfix(b: Uint8Array, h: MessageHandler): void {
  if (b.length < IPFIX_HEADER_LENGTH) {
    h.malformed('short-header', 0);
    return;
  }
  const msgLen = (b[2]! << 8) | b[3]!;
  const secs = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
  const seq = ((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0;
  const domain = ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0;
  if (!h.begin('ipfix', domain, seq, secs * 1000, NaN)) return;
  let end = b.length;
  if (msgLen < IPFIX_HEADER_LENGTH) {
    h.malformed('length-mismatch', 2);
    return;
  }
  if (msgLen !== b.length) {
    // A shorter length leaves trailing bytes (ignored); a longer one means a truncated message,
    // whose complete sets are still decoded.
    h.malformed('length-mismatch', 2);
    if (msgLen < end) end = msgLen;
  }
  let o = IPFIX_HEADER_LENGTH;
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
    if (setId === 2 || setId === 3) templateSet(b, o + 4, o + setLen, setId === 3, h);
    else if (setId >= 256) h.data(setId, b, o + 4, o + setLen);
    else h.malformed('reserved-set-id', o);
    o += setLen;
  }
  if (o !== end) h.malformed('length-mismatch', o);
}

function templateSet(b: Uint8Array, start: number, end: number, options: boolean, h: MessageHandler): void {
  let p = start;
  while (end - p >= 4) {
    const tid = (b[p]! << 8) | b[p + 1]!;
    const count = (b[p + 2]! << 8) | b[p + 3]!;
    if (tid === 0 && count === 0) return; // padding (RFC 7011 section 3.3.1)
    p += 4;
    if (count === 0) {
      h.withdraw(tid, options);
      continue;
    }
    if (tid < 256) {
      h.malformed('template-id', p - 4);
      return;
    }
    let scope = 0;
    if (options) {
      if (p + 2 > end) {
        h.malformed('template-truncated', p);
        return;
      }
      scope = (b[p]! << 8) | b[p + 1]!;
      p += 2;
      if (scope === 0 || scope > count) {
        h.malformed('template-scope-count', p - 2);
        return;
      }
    }
    if (count > MAX_FIELDS_PER_TEMPLATE) {
      h.malformed('template-too-many-fields', p);
      return;
    }
    const specs: FieldSpecifier[] = [];
    for (let k = 0; k < count; k++) {
      if (p + 4 > end) {
        h.malformed('template-truncated', p);
        return;
      }
      const raw = (b[p]! << 8) | b[p + 1]!;
      const length = (b[p + 2]! << 8) | b[p + 3]!;
      p += 4;
      let enterprise = 0;
      if (raw & 0x8000) {
        if (p + 4 > end) {
          h.malformed('template-truncated', p);
          return;
        }
        enterprise = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
        p += 4;
      }
      specs.push({ id: raw & 0x7fff, length, enterprise });
    }
    h.template(tid, scope, specs);
  }
}
