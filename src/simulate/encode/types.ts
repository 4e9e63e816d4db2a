import type { Fields } from '../../common/schema/index.ts';

/**
 * One field of a template to encode: an element name from the registry (`'sourceIPv4Address'`,
 * `'reverseOctetDeltaCount'`, a vendor name), or an explicit specifier. `length` defaults to the
 * data type's natural size; variable-length types (string, octetArray, lists) default to 65535
 * (IPFIX variable length) and must be given for NetFlow v9, which has no variable length.
 */
export type EncodeFieldSpec =
  | string
  | {
      /** Element name (looked up in the registry) — or give `id` (+ `enterprise`) instead. */
      name?: string;
      id?: number;
      enterprise?: number;
      length?: number;
      /** RFC 6313 structured data: how to encode this field's list values. */
      list?: EncodeListSpec;
    };

/**
 * How a structured-data field is encoded (RFC 6313). Values are arrays as the decoder prints them:
 * a basicList an array of element values, a subTemplateList an array of field objects (all with
 * `template`), a subTemplateMultiList an array of field objects, each encoded with the first of
 * `templates` whose field names match the object's keys.
 */
export type EncodeListSpec =
  | { kind: 'basicList'; element: EncodeFieldSpec; semantic?: number }
  | { kind: 'subTemplateList'; template: EncodeTemplate; semantic?: number }
  | { kind: 'subTemplateMultiList'; templates: EncodeTemplate[]; semantic?: number };

/** A template (or options template, with `scopeCount` > 0) as the encoder uses it. */
export interface EncodeTemplate {
  templateId: number;
  /** Number of scope fields at the start of `fields` (options templates only). */
  scopeCount?: number;
  fields: EncodeFieldSpec[];
}

/** One set (IPFIX) or flowset (NetFlow v9) of a message. */
export type EncodeSet =
  | { kind: 'template'; templates: EncodeTemplate[] }
  | { kind: 'options-template'; templates: EncodeTemplate[] }
  /** IPFIX template withdrawal; template id 2 (or 3 with `options`) withdraws all of that kind. */
  | { kind: 'withdrawal'; templateIds: number[]; options?: boolean }
  /** Data records encoded with `template`; `padding` zero bytes are appended (RFC 7011 3.3.1). */
  | { kind: 'data'; template: EncodeTemplate; records: Fields[]; padding?: number }
  /** A set with arbitrary id and body bytes, for tests of malformed input. */
  | { kind: 'raw'; setId: number; body: Uint8Array };
