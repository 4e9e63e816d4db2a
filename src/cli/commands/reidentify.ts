/**
 * `acd reidentify …` (issue 8, R-OVS-2): dual-authorised re-identification through a running
 * centre's API (`/api/reidentifications`, src/oversee/reidentify/plugin.ts). One person requests
 * (and signs), a second, distinct person authorises (and signs; the request then goes to the
 * provider's edge), and each of the two may reveal the sealed answer once. The commands are thin
 * API clients; every check (approved case, records and pseudonyms, dual control, reveal window)
 * is the centre's. The two parsers here (`--record` and `--file`) only shape the request body.
 */
import type { Command } from 'commander';
import { parseRequestText } from '../../oversee/cases/index.ts';
import { UsageError } from '../../common/errors.ts';
import { tryParseAddress } from '../../common/prefixes/index.ts';
import {
  MAX_REID_RECORD_ID,
  type NamedRecord,
  type ReidentificationInput,
} from '../../oversee/reidentify/index.ts';
import { ValidationError } from '../../serve/errors.ts';
import {
  apiClient,
  apiOptions,
  limitOf,
  listAll,
  printJson,
  readSmallFile,
  TOKEN_ENV,
  type ApiOptions,
} from '../api-client.ts';
import type { CliContext } from '../context.ts';

/** The only purpose the re-identification routes accept (ACCESS.reidentification). */
const REID_PURPOSE = 'investigation';
/** Largest request file read (200 records of 256-character ids stay far below). */
export const MAX_REID_FILE_BYTES = 1024 * 1024;
/** Records one request names at most (the API's schema bound; the centre's `maxRecords` may be lower). */
const MAX_RECORDS = 200;
/** Addresses named per record at most: its source and its destination. */
const MAX_ADDRESSES = 2;
/** Largest key epoch (the API's schema bound). */
const MAX_KEY_EPOCH = 0x7fffffff;
const EPOCH_RE = /^[1-9][0-9]{0,9}$/;

function epochOf(text: string): number | undefined {
  if (!EPOCH_RE.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_KEY_EPOCH ? n : undefined;
}

function addressesOf(text: string): string[] | undefined {
  const parts = text.split(',');
  if (parts.length < 1 || parts.length > MAX_ADDRESSES) return undefined;
  for (const p of parts) if (p === '' || tryParseAddress(p) === undefined) return undefined;
  return parts;
}

/**
 * Parses one `--record RECORD_ID:KEY_EPOCH:ADDRESS[,ADDRESS]`. Record ids and IPv6 addresses may
 * contain colons, so the split is the **leftmost** colon-separated decimal field after which only
 * one or two IPv4/IPv6 addresses follow (an edge's record id ends in `/<index>`, which no address
 * contains). Pure; throws only `UsageError`.
 */
export function parseRecordSpec(spec: string): NamedRecord {
  const parts = spec.split(':');
  for (let i = 1; i < parts.length - 1; i++) {
    const keyEpoch = epochOf(parts[i] ?? '');
    if (keyEpoch === undefined) continue;
    const recordId = parts.slice(0, i).join(':');
    if (recordId.length > MAX_REID_RECORD_ID) break;
    const addresses = addressesOf(parts.slice(i + 1).join(':'));
    if (addresses !== undefined && recordId !== '') return { recordId, keyEpoch, addresses };
  }
  throw new UsageError(
    `--record: not RECORD_ID:KEY_EPOCH:ADDRESS[,ADDRESS] (record id 1…${MAX_REID_RECORD_ID} characters, ` +
      `epoch 1…${MAX_KEY_EPOCH}, one or two IPv4/IPv6 addresses): ${spec.slice(0, 300)}`,
  );
}

function str(v: unknown, name: string, label: string): string {
  if (typeof v !== 'string' || v === '') throw new ValidationError(`${label}.${name}`, 'a non-empty string');
  return v;
}

function exactKeys(o: object, allowed: readonly string[], label: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new ValidationError(`${label}.${k}`, 'unknown field');
}

function recordOf(v: unknown, label: string): NamedRecord {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ValidationError(label, 'an object { recordId, keyEpoch, addresses }');
  exactKeys(v, ['recordId', 'keyEpoch', 'addresses'], label);
  const r = v as { recordId?: unknown; keyEpoch?: unknown; addresses?: unknown };
  const recordId = str(r.recordId, 'recordId', label);
  if (recordId.length > MAX_REID_RECORD_ID)
    throw new ValidationError(`${label}.recordId`, `at most ${MAX_REID_RECORD_ID} characters`);
  if (
    typeof r.keyEpoch !== 'number' ||
    !Number.isInteger(r.keyEpoch) ||
    r.keyEpoch < 1 ||
    r.keyEpoch > MAX_KEY_EPOCH
  )
    throw new ValidationError(`${label}.keyEpoch`, `an integer 1…${MAX_KEY_EPOCH}`);
  if (!Array.isArray(r.addresses) || r.addresses.length < 1 || r.addresses.length > MAX_ADDRESSES)
    throw new ValidationError(`${label}.addresses`, `one or two addresses`);
  const addresses = r.addresses.map((a: unknown, j) => {
    if (typeof a !== 'string' || tryParseAddress(a) === undefined)
      throw new ValidationError(`${label}.addresses[${j}]`, 'an IPv4 or IPv6 address');
    return a;
  });
  return { recordId, keyEpoch: r.keyEpoch, addresses };
}

/**
 * Parses a request file (JSON or YAML: the body of `POST /api/reidentifications`, i.e.
 * `caseId`, `purpose`, `providerId`, `records[]`). Checks the shape only; the centre checks the
 * rest (patterns, the case, the records and their pseudonyms). Pure; throws only
 * `ValidationError` (exit 1, as a bad case file of `acd cases create`).
 */
export function parseRequestFile(text: string, label = 'file'): ReidentificationInput {
  const value = parseRequestText(text, label, MAX_REID_FILE_BYTES);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError(label, 'an object { caseId, purpose, providerId, records }');
  exactKeys(value, ['caseId', 'purpose', 'providerId', 'records'], label);
  const b = value as { caseId?: unknown; purpose?: unknown; providerId?: unknown; records?: unknown };
  const caseId = str(b.caseId, 'caseId', label);
  const purpose = str(b.purpose, 'purpose', label);
  const providerId = str(b.providerId, 'providerId', label);
  if (!Array.isArray(b.records) || b.records.length < 1 || b.records.length > MAX_RECORDS)
    throw new ValidationError(`${label}.records`, `1…${MAX_RECORDS} records`);
  const records = b.records.map((r: unknown, i) => recordOf(r, `${label}.records[${i}]`));
  return { caseId, purpose, providerId, records };
}

interface RequestOptions extends ApiOptions {
  case?: string;
  purposeCode?: string;
  provider?: string;
  record: string[];
  file?: string;
}

async function requestBody(opts: RequestOptions): Promise<ReidentificationInput> {
  const inline = opts.case !== undefined || opts.purposeCode !== undefined || opts.provider !== undefined;
  if (opts.file !== undefined) {
    if (inline || opts.record.length > 0)
      throw new UsageError('give either --file or --case/--purpose-code/--provider/--record, not both');
    return parseRequestFile(await readSmallFile(opts.file, MAX_REID_FILE_BYTES), opts.file);
  }
  if (opts.case === undefined || opts.purposeCode === undefined || opts.provider === undefined)
    throw new UsageError('give --case, --purpose-code and --provider (or --file)');
  if (opts.record.length === 0) throw new UsageError('give at least one --record (or --file)');
  if (opts.record.length > MAX_RECORDS) throw new UsageError(`at most ${MAX_RECORDS} --record`);
  return {
    caseId: opts.case,
    purpose: opts.purposeCode,
    providerId: opts.provider,
    records: opts.record.map(parseRecordSpec),
  };
}

/** The fields of a request view the commands read (the API sends more). */
interface View {
  id: string;
  state: string;
  caseId: string;
}

const path = (id: string, op?: string): string =>
  `/api/reidentifications/${encodeURIComponent(id)}${op !== undefined ? `/${op}` : ''}`;

/** `acd reidentify …`: a client of a running centre's re-identification API. */
export function registerReidentify(program: Command, ctx: CliContext): void {
  const reid = program
    .command('reidentify')
    .description(
      `dual-authorised re-identification of stored records (R-OVS-2) through a running centre's API; ` +
        `token from ${TOKEN_ENV} (a person with a key: acd keys add-signer USER), data on stdout as JSON`,
    )
    .addHelpText(
      'after',
      `
Examples:
  export ${TOKEN_ENV}=…                             the requester's API token (analyst, supervisor or police)
  acd reidentify request --case case-1a2b3c4d5e6f --purpose-code incident-response --provider isp-a \\
      --record 'isp-a/192.0.2.1/0/12/3:4:10.9.8.7'          RECORD_ID:KEY_EPOCH:PSEUDONYM[,PSEUDONYM]
  acd reidentify request --file request.yaml                the body of POST /api/reidentifications
  acd reidentify list                                       NDJSON: yours, and those awaiting a second person
  acd reidentify show reid-…                                one request (never the addresses)
  ACD_TOKEN=… acd reidentify authorise reid-…               a second, distinct person: signed and sent to the edge
  acd reidentify reveal reid-… > case-evidence.json         each party once: the clear addresses

The purpose (X-ACD-Purpose) is ${REID_PURPOSE}; --purpose-code is the signed purpose of the request.`,
    );

  apiOptions(
    reid
      .command('request')
      .description('request re-identification of named records under an approved case (signed by you)')
      .addHelpText(
        'after',
        `
Examples:
  acd reidentify request --case case-1a2b3c4d5e6f --purpose-code incident-response --provider isp-a \\
      --record 'isp-a/192.0.2.1/0/12/3:4:10.9.8.7' --record 'isp-a/192.0.2.1/0/12/4:4:2001:db8::5,10.1.2.3'
  acd reidentify request --file request.yaml
      request.yaml:  caseId: case-1a2b3c4d5e6f
                     purpose: incident-response
                     providerId: isp-a
                     records: [{ recordId: isp-a/192.0.2.1/0/12/3, keyEpoch: 4, addresses: [10.9.8.7] }]

A --record is RECORD_ID:KEY_EPOCH:ADDRESS[,ADDRESS]: the stored record's id, the key epoch of its
provenance, and its pseudonymised endpoint(s). Ids and IPv6 addresses may contain colons: the
epoch is the leftmost numeric field followed by addresses only; use --file if that is ambiguous.`,
      ),
    REID_PURPOSE,
  )
    .option('--case <id>', 'the approved approval case covering the provider')
    .option('--purpose-code <code>', 'the purpose of the re-identification, signed into the request')
    .option('--provider <id>', 'the provider whose edge holds the keys')
    .option(
      '--record <spec>',
      'RECORD_ID:KEY_EPOCH:ADDRESS[,ADDRESS] (repeat for several records)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--file <file>', 'JSON or YAML request body instead of the options above')
    .action(async (opts: RequestOptions) => {
      const body = await requestBody(opts);
      const v: View = await apiClient(ctx, opts)('POST', '/api/reidentifications', body);
      printJson(ctx, v);
      ctx.stderr.write(
        `acd reidentify: created ${v.id} (${v.state}); a second person must run: acd reidentify authorise ${v.id}\n`,
      );
    });

  apiOptions(
    reid
      .command('list')
      .description('your requests, those you authorised and those awaiting a second person (NDJSON)')
      .addHelpText(
        'after',
        '\nExamples:\n  acd reidentify list --all | jq -r \'select(.state == "awaiting-second") | .id\'',
      ),
    REID_PURPOSE,
  )
    .option('--limit <n>', 'items per page (≤ 1000)', '100')
    .option('--all', 'follow every page')
    .action(async (opts: ApiOptions & { limit?: string; all?: boolean }) => {
      const q = new URLSearchParams({ limit: limitOf(opts.limit) });
      await listAll(ctx, apiClient(ctx, opts), '/api/reidentifications', q, opts.all === true);
    });

  apiOptions(
    reid
      .command('show')
      .argument('<id>')
      .description('one request: state, parties, records, sealed reference (never the addresses)')
      .addHelpText('after', '\nExamples:\n  acd reidentify show reid-… | jq .state'),
    REID_PURPOSE,
  ).action(async (id: string, opts: ApiOptions) => {
    printJson(ctx, await apiClient(ctx, opts)('GET', path(id)));
  });

  apiOptions(
    reid
      .command('authorise')
      .argument('<id>')
      .description('the second authorisation by another person: signs and sends the request to the edge')
      .addHelpText(
        'after',
        '\nExamples:\n  ACD_TOKEN=$SUPERVISOR_TOKEN acd reidentify authorise reid-…\n' +
          '  (the requester gets exit 1 with ERR_REID_SAME_PERSON)',
      ),
    REID_PURPOSE,
  ).action(async (id: string, opts: ApiOptions) => {
    const v: View = await apiClient(ctx, opts)('POST', path(id, 'authorise'));
    printJson(ctx, v);
    ctx.stderr.write(`acd reidentify: ${v.id} ${v.state}\n`);
  });

  apiOptions(
    reid
      .command('reveal')
      .argument('<id>')
      .description('open the answer (requester or second authoriser, once each, within the reveal window)')
      .addHelpText(
        'after',
        '\nExamples:\n  acd reidentify reveal reid-… > evidence/reid.json   the clear addresses: keep them with the case\n' +
          '  acd reidentify reveal reid-… | jq -r \'.results[] | "\\(.pseudonym) \\(.address)"\'',
      ),
    REID_PURPOSE,
  ).action(async (id: string, opts: ApiOptions) => {
    const r: { request: View; results: unknown[] } = await apiClient(ctx, opts)('POST', path(id, 'reveal'));
    ctx.stderr.write(
      `acd reidentify: WARNING: the output contains ${r.results.length} clear address(es); ` +
        `handle it under case ${r.request.caseId} only, and do not ` +
        `keep it in logs or shell history (this reveal is audited and cannot be repeated)\n`,
    );
    printJson(ctx, r);
  });
}
