/**
 * The two parsers of `acd reidentify request` (outside input: the command line and a file): they
 * round-trip what an edge writes (record ids with IPv6 exporters, IPv6 pseudonyms, both contain
 * colons), and on any input either return a well-formed request or throw their one typed error.
 */
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../common/errors.ts';
import { tryParseAddress } from '../../common/prefixes/index.ts';
import { MAX_REID_RECORD_ID } from '../../oversee/reidentify/index.ts';
import { ValidationError } from '../../serve/errors.ts';
import { parseRecordSpec, parseRequestFile } from './reidentify.ts';

const address = fc.oneof(fc.ipV4(), fc.ipV6()).filter((a) => tryParseAddress(a) !== undefined);
/** A record id as the edge writes it: provider / exporter address / domain / sequence / index. */
const edgeRecordId = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    address,
    fc.nat(0xffffffff),
    fc.nat(1e9),
    fc.nat(65_535),
  )
  .map(([p, a, d, s, i]) => `${p}/${a}/${d}/${s}/${i}`);
const epoch = fc.integer({ min: 1, max: 0x7fffffff });
const addresses = fc.array(address, { minLength: 1, maxLength: 2 });

describe('parseRecordSpec (--record RECORD_ID:KEY_EPOCH:ADDRESS[,ADDRESS])', () => {
  it('reads an IPv6 record id and an IPv6 pseudonym despite their colons', () => {
    expect(parseRecordSpec('isp-a/2001:db8::1/0/12/3:4:2001:db8::77,10.0.0.1')).toEqual({
      recordId: 'isp-a/2001:db8::1/0/12/3',
      keyEpoch: 4,
      addresses: ['2001:db8::77', '10.0.0.1'],
    });
  });

  it('refuses a missing epoch, a bad address, three addresses and an empty id', () => {
    for (const bad of [
      'rec-1:10.0.0.1',
      'rec-1:0:10.0.0.1',
      'rec-1:4:10.0.0.300',
      'rec-1:4:10.0.0.1,10.0.0.2,10.0.0.3',
      ':4:10.0.0.1',
      'rec-1:4:',
      `${'r'.repeat(MAX_REID_RECORD_ID + 1)}:4:10.0.0.1`,
    ])
      expect(() => parseRecordSpec(bad), bad).toThrow(UsageError);
  });

  it('round-trips every record an edge can name', () => {
    fc.assert(
      fc.property(edgeRecordId, epoch, addresses, (recordId, keyEpoch, addrs) => {
        expect(parseRecordSpec(`${recordId}:${keyEpoch}:${addrs.join(',')}`)).toEqual({
          recordId,
          keyEpoch,
          addresses: addrs,
        });
      }),
    );
  });

  it('returns a well-formed record or throws UsageError on any text', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc
        .array(fc.oneof(fc.constantFrom(':', ',', '1', '::', '/'), fc.string({ maxLength: 6 }), address), {
          maxLength: 12,
        })
        .map((a) => a.join('')),
    );
    fc.assert(
      fc.property(text, (s) => {
        try {
          const r = parseRecordSpec(s);
          expect(r.recordId.length).toBeGreaterThan(0);
          expect(r.recordId.length).toBeLessThanOrEqual(MAX_REID_RECORD_ID);
          expect(Number.isInteger(r.keyEpoch) && r.keyEpoch >= 1).toBe(true);
          expect(r.addresses.length === 1 || r.addresses.length === 2).toBe(true);
          for (const a of r.addresses) expect(tryParseAddress(a)).toBeDefined();
          expect(`${r.recordId}:${r.keyEpoch}:${r.addresses.join(',')}`).toBe(s);
        } catch (err) {
          if (!(err instanceof UsageError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseRequestFile (--file, JSON or YAML)', () => {
  const body = fc.record({
    caseId: fc.stringMatching(/^case-[a-z0-9]{1,12}$/),
    purpose: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    providerId: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    records: fc.array(fc.record({ recordId: edgeRecordId, keyEpoch: epoch, addresses }), {
      minLength: 1,
      maxLength: 5,
    }),
  });

  it('round-trips a request body written as JSON or as YAML', () => {
    fc.assert(
      fc.property(body, fc.boolean(), (b, yaml) => {
        expect(parseRequestFile(yaml ? toYaml(b) : JSON.stringify(b))).toEqual(b);
      }),
    );
  });

  it('names the field at fault', () => {
    const ok = { caseId: 'case-1', purpose: 'p', providerId: 'isp-a', records: [] };
    expect(() => parseRequestFile(JSON.stringify(ok))).toThrow(/records/);
    expect(() => parseRequestFile(JSON.stringify({ ...ok, extra: 1 }))).toThrow(/extra/);
    expect(() =>
      parseRequestFile(
        JSON.stringify({ ...ok, records: [{ recordId: 'r', keyEpoch: 1, addresses: ['nope'] }] }),
      ),
    ).toThrow(/records\[0\]\.addresses\[0\]/);
    expect(() => parseRequestFile('caseId: [')).toThrow(ValidationError);
  });

  it('returns a well-formed request or throws ValidationError on any input', () => {
    const input = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      body.chain((b) =>
        fc
          .tuple(fc.constantFrom('caseId', 'purpose', 'providerId', 'records'), fc.jsonValue({ maxDepth: 3 }))
          .map(([k, v]) => JSON.stringify({ ...b, [k]: v })),
      ),
    );
    fc.assert(
      fc.property(input, (text) => {
        try {
          const r = parseRequestFile(text);
          expect(r.records.length).toBeGreaterThan(0);
          for (const rec of r.records)
            for (const a of rec.addresses) expect(tryParseAddress(a)).toBeDefined();
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
