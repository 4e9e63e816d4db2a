import { EncodeError } from './errors.ts';
import { resolveTemplate, writeRecord, writeSpecifier } from './fields.ts';
import type { EncodeSet } from './types.ts';
import { ByteWriter } from './writer.ts';

/** What `encodeIpfixMessage` needs: the header fields and the sets, in order. */
export interface IpfixMessageInput {
  observationDomainId: number;
  /** Sequence number: data records sent before this message, mod 2^32 (RFC 7011 section 3.1). */
  sequence: number;
  /** Export time, epoch milliseconds (the header carries whole seconds). */
  exportTime: number;
  sets: EncodeSet[];
}

/** Encodes one IPFIX message (RFC 7011). Throws `EncodeError` for values it cannot encode. */
export function encodeIpfixMessage(m: IpfixMessageInput): Uint8Array {
  const w = new ByteWriter();
  w.u16(10)
    .u16(0)
    .u32(Math.floor(m.exportTime / 1000))
    .u32(m.sequence)
    .u32(m.observationDomainId);
  for (const set of m.sets) {
    const start = w.length;
    switch (set.kind) {
      case 'template':
        w.u16(2).u16(0);
        for (const t of set.templates) {
          const fields = resolveTemplate(t, false);
          w.u16(t.templateId).u16(fields.length);
          for (const f of fields) writeSpecifier(w, f, false);
        }
        break;
      case 'options-template':
        w.u16(3).u16(0);
        for (const t of set.templates) {
          const fields = resolveTemplate(t, false);
          w.u16(t.templateId)
            .u16(fields.length)
            .u16(t.scopeCount ?? 0);
          for (const f of fields) writeSpecifier(w, f, false);
        }
        break;
      case 'withdrawal':
        w.u16(set.options ? 3 : 2).u16(0);
        for (const id of set.templateIds) w.u16(id).u16(0);
        break;
      case 'data': {
        const fields = resolveTemplate(set.template, false);
        w.u16(set.template.templateId).u16(0);
        for (const r of set.records) writeRecord(w, fields, r, { v9: false });
        w.zeros(set.padding ?? 0);
        break;
      }
      case 'raw':
        w.u16(set.setId)
          .u16(4 + set.body.length)
          .bytes(set.body);
        continue;
    }
    if (w.length - start > 0xffff) throw new EncodeError('set longer than 65535 bytes');
    w.patch16(start + 2, w.length - start);
  }
  if (w.length > 0xffff) throw new EncodeError('message longer than 65535 bytes');
  w.patch16(2, w.length);
  return w.finish();
}
