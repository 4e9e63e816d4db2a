import { EncodeError } from './errors.ts';
import { resolveTemplate, writeRecord, writeSpecifier } from './fields.ts';
import type { EncodeSet } from './types.ts';
import { ByteWriter } from './writer.ts';

/** What `encodeNetflow9Message` needs. */
export interface Netflow9MessageInput {
  sourceId: number;
  /** Export packet sequence number (incremented by one per packet, RFC 3954 section 5.1). */
  sequence: number;
  /** Export time, epoch milliseconds (the header carries whole seconds). */
  exportTime: number;
  /** Milliseconds since the exporting device booted. */
  sysUptime: number;
  sets: EncodeSet[];
}

function pad4(w: ByteWriter, start: number): void {
  const rem = (w.length - start) % 4;
  if (rem !== 0) w.zeros(4 - rem);
}

/**
 * Encodes one NetFlow v9 export packet (RFC 3954). Options templates go one per flowset with the
 * first `scopeCount` fields as scope fields (ids = scope types 1-5). Flowsets are padded to 32 bits.
 * IPFIX-only features (withdrawal, enterprise fields, variable length) throw `EncodeError`.
 */
export function encodeNetflow9Message(m: Netflow9MessageInput): Uint8Array {
  const w = new ByteWriter();
  w.u16(9)
    .u16(0)
    .u32(m.sysUptime)
    .u32(Math.floor(m.exportTime / 1000))
    .u32(m.sequence)
    .u32(m.sourceId);
  let count = 0;
  for (const set of m.sets) {
    const start = w.length;
    switch (set.kind) {
      case 'template':
        w.u16(0).u16(0);
        for (const t of set.templates) {
          const fields = resolveTemplate(t, true);
          w.u16(t.templateId).u16(fields.length);
          for (const f of fields) {
            if (f.enterprise !== 0) throw new EncodeError(`${f.name}: enterprise fields need IPFIX`);
            writeSpecifier(w, f, true);
          }
          count++;
        }
        break;
      case 'options-template':
        for (const t of set.templates) {
          const s = w.length;
          const fields = resolveTemplate(t, true);
          const scope = t.scopeCount ?? 0;
          w.u16(1)
            .u16(0)
            .u16(t.templateId)
            .u16(scope * 4)
            .u16((fields.length - scope) * 4);
          for (const f of fields) writeSpecifier(w, f, true);
          pad4(w, s);
          w.patch16(s + 2, w.length - s);
          count++;
        }
        continue;
      case 'withdrawal':
        throw new EncodeError('NetFlow v9 has no template withdrawal');
      case 'data': {
        const fields = resolveTemplate(set.template, true);
        if (fields.some((f) => f.length === 65535))
          throw new EncodeError('NetFlow v9 has no variable length');
        w.u16(set.template.templateId).u16(0);
        for (const r of set.records) writeRecord(w, fields, r, { v9: true });
        count += set.records.length;
        if (set.padding !== undefined) w.zeros(set.padding);
        else pad4(w, start);
        break;
      }
      case 'raw':
        w.u16(set.setId)
          .u16(4 + set.body.length)
          .bytes(set.body);
        continue;
    }
    w.patch16(start + 2, w.length - start);
  }
  w.patch16(2, count);
  return w.finish();
}
