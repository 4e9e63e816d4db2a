/**
 * Generator for `iana.ts`: turns the stored IANA "IPFIX Information Elements" CSV
 * (`data/ipfix-information-elements.csv`) into a typed TypeScript table. It lives beside the code
 * (not only in `scripts/`) so that a test can re-run it on the stored CSV and prove that the
 * committed `iana.ts` is exactly what the data yields.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { AcdError } from '../../../common/errors.ts';
import type { IeDataType, IeDef, IeSemantics } from './types.ts';

/** Path of the stored registry CSV. */
export const IANA_CSV_PATH = fileURLToPath(new URL('./data/ipfix-information-elements.csv', import.meta.url));
/** Path of the generated module. */
export const IANA_TS_PATH = fileURLToPath(new URL('./iana.ts', import.meta.url));

/**
 * Information elements that RFC 5103 section 6.1 declares not reversible: the identifiers of the
 * export itself (commonPropertiesId, templateId, flowId, observationDomainId), the Process
 * Configuration and Process Statistics elements of RFC 5102 sections 5.2 and 5.3, paddingOctets
 * and biflowDirection. Every other IANA element may be reversed with PEN 29305.
 */
export const NON_REVERSIBLE_IDS: ReadonlySet<number> = new Set([
  // RFC 5102 section 5.1 identifiers that describe the export, not a direction of the flow.
  137, 145, 148, 149,
  // RFC 5102 section 5.2 Metering and Exporting Process configuration.
  130, 131, 173, 211, 212, 213, 214, 215, 216, 217,
  // RFC 5102 section 5.3 Metering and Exporting Process statistics.
  40, 41, 42, 163, 164, 165, 166, 167, 168,
  // Named individually by RFC 5103.
  210, 239,
]);

/** The CSV did not have the shape the generator expects (a changed registry format). */
export class IanaCsvError extends AcdError {
  constructor(message: string) {
    super('ERR_IANA_CSV', message);
  }
}

const DATA_TYPES: ReadonlySet<string> = new Set<IeDataType>([
  'octetArray',
  'unsigned8',
  'unsigned16',
  'unsigned32',
  'unsigned64',
  'unsigned256',
  'signed8',
  'signed16',
  'signed32',
  'signed64',
  'float32',
  'float64',
  'boolean',
  'macAddress',
  'string',
  'dateTimeSeconds',
  'dateTimeMilliseconds',
  'dateTimeMicroseconds',
  'dateTimeNanoseconds',
  'ipv4Address',
  'ipv6Address',
  'basicList',
  'subTemplateList',
  'subTemplateMultiList',
]);

const SEMANTICS: ReadonlySet<string> = new Set<IeSemantics>([
  'default',
  'quantity',
  'totalCounter',
  'deltaCounter',
  'identifier',
  'flags',
  'list',
  'snmpCounter',
  'snmpGauge',
]);

const HEADER = [
  'ElementID',
  'Name',
  'Abstract Data Type',
  'Data Type Semantics',
  'Status',
  'Units',
  'Range',
  'Reference',
  'Revision',
  'Date',
] as const;

/** Splits RFC 4180 CSV text into rows of fields (quoted fields may hold commas and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** What the generator extracts from the CSV. */
export interface IanaTable {
  /** Newest per-element revision date in the CSV (the CSV carries no registry-wide date). */
  readonly version: string;
  readonly ies: readonly IeDef[];
}

/**
 * Builds the element table from the CSV text. Ranges ("65-69", "530-32767") and single reserved
 * ids (0, 97) produce no element. Rows without a name (deprecated duplicates such as 416 and
 * 419) keep the synthesised name `ie<ID>` and decode as octets.
 */
export function buildIanaTable(csv: string): IanaTable {
  const rows = parseCsv(csv);
  const header = rows[0];
  if (!header || header.join(',') !== HEADER.join(',')) {
    throw new IanaCsvError(`unexpected CSV header: ${header?.join(',') ?? '(none)'}`);
  }
  const ies: IeDef[] = [];
  let version = '';
  for (const [index, r] of rows.slice(1).entries()) {
    if (r.length === 1 && r[0] === '') continue;
    if (r.length !== HEADER.length) {
      throw new IanaCsvError(`row ${index + 2} has ${r.length} fields, expected ${HEADER.length}`);
    }
    const [idText, rawName, rawType, rawSem, status, units, , , , date] = r as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (date > version) version = date;
    if (!/^\d+$/.test(idText)) continue; // a reserved or unassigned range
    const id = Number(idText);
    const deprecated = status === 'deprecated';
    // Reserved ids (0, and 97 "Assigned for NetFlow v9 compatibility") have neither type nor status.
    if (rawType === '' && !deprecated) continue;
    const name = rawName === '' ? `ie${id}` : rawName;
    let type: IeDataType = 'octetArray';
    if (rawType !== '') {
      if (!DATA_TYPES.has(rawType)) throw new IanaCsvError(`element ${id}: unknown data type ${rawType}`);
      type = rawType as IeDataType;
    }
    if (rawSem !== '' && !SEMANTICS.has(rawSem)) {
      throw new IanaCsvError(`element ${id}: unknown semantics ${rawSem}`);
    }
    const def: {
      enterprise: number;
      id: number;
      name: string;
      type: IeDataType;
      semantics?: IeSemantics;
      units?: string;
      reversible?: boolean;
      deprecated?: boolean;
    } = { enterprise: 0, id, name, type };
    if (rawSem !== '') def.semantics = rawSem as IeSemantics;
    if (units !== '') def.units = units;
    // An element without a registered type (a deprecated duplicate) gets no reverse twin either.
    if (rawType !== '' && !NON_REVERSIBLE_IDS.has(id)) def.reversible = true;
    if (deprecated) def.deprecated = true;
    ies.push(def);
  }
  if (version === '') throw new IanaCsvError('no dated rows in CSV');
  return { version, ies };
}

/** Renders the generated module (before formatting). */
function renderModule(table: IanaTable): string {
  const lines = table.ies.map((d) => `  ${JSON.stringify(d)},`);
  return [
    '// GENERATED by scripts/gen-ies.ts from data/ipfix-information-elements.csv. Do not edit by hand:',
    '// change the CSV (or the generator in gen.ts) and run `node --import tsx scripts/gen-ies.ts`.',
    "import type { IeDef } from './types.ts';",
    '',
    '/**',
    ' * Revision of the IANA "IPFIX Information Elements" registry this table was generated from: the',
    " * newest element revision date in the stored CSV (the registry's CSV carries no registry-wide date).",
    ' */',
    `export const IANA_VERSION = ${JSON.stringify(table.version)};`,
    '',
    '/**',
    ' * IANA IPFIX information elements (enterprise 0), deprecated ones included. `reversible` follows',
    ' * RFC 5103 section 6.1.',
    ' */',
    'export const IANA_IES: readonly IeDef[] = [',
    ...lines,
    '];',
    '',
  ].join('\n');
}

/** Generates the formatted `iana.ts` source from CSV text, formatted with the repository's prettier config. */
export async function generateIanaModule(csv: string): Promise<string> {
  const source = renderModule(buildIanaTable(csv));
  const config = (await resolveConfig(IANA_TS_PATH)) ?? {};
  return format(source, { ...config, parser: 'typescript' });
}

/** Reads the stored CSV and returns the generated module text. */
export async function generateFromStoredCsv(): Promise<string> {
  return generateIanaModule(await readFile(IANA_CSV_PATH, 'utf8'));
}
