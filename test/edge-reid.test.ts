/**
 * Re-identification at the live edge (issue 5, R-OVS-2: "the edge answers signed, dual-authorised
 * re-identification requests for named records only"). The live edge (`createEdge`, the wiring
 * `acd edge --config` runs) receives NetFlow v9/v5 and IPFIX over UDP from the simulator's
 * exporters, selects and pseudonymises, and publishes to a memory bus shared with a "centre" in
 * this test. The centre then sends re-identification requests on the control direction and reads
 * the answers on `acd.ctl.<provider>.answer`: a valid dual-signed request for two records reveals
 * exactly their two original addresses; a single signer, a replay of the answered request and a
 * request pairing a record with another record's pseudonym are refused with typed codes; no log
 * line contains a revealed address.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createEdge } from '../src/cli/edge/edge.ts';
import type { ReidentificationAnswerBody } from '../src/cli/edge/reidentification.ts';
import { demoSetup } from '../src/cli/edge/selection.ts';
import { localEdgeConfig } from '../src/cli/embedded/edges.ts';
import { systemClock } from '../src/common/clock.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import { loadPrefixTable } from '../src/common/prefixes/index.ts';
import type { ReidentificationRequestPayload } from '../src/common/schema/approval.ts';
import type { SelectedRecord } from '../src/common/schema/selected.ts';
import { resolveTrustedKey, signDocument, SigningKey } from '../src/common/signing/index.ts';
import {
  createExporterFleet,
  createUdpOutput,
  type ExporterConfig,
} from '../src/simulate/exporters/index.ts';
import { createMemoryBus, type ControlMessage, type DeliveredControl } from '../src/transport/index.ts';
import { edgeFlows, ROOT, testAddresses } from './helpers/edge.ts';
import { capture } from './helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'acd-edge-reid-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const PROVIDER = 'isp-reid';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Two people authorised to sign re-identification requests, and one key per person. */
const alice = SigningKey.generate();
const bob = SigningKey.generate();
const authoriser = (k: SigningKey, signer: string) =>
  resolveTrustedKey({
    publicKey: k.publicKey,
    signer,
    validFrom: '2020-01-01T00:00:00Z',
    validUntil: '2100-01-01T00:00:00Z',
    scopes: ['reidentification'],
  });

async function until<T>(what: string, f: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function envelope(doc: unknown, messageId: string): ControlMessage {
  return {
    messageId,
    kind: 'reident-request',
    from: 'centre',
    issuedAt: Date.now(),
    contentType: 'application/acd-reident-request+json',
    payload: new TextEncoder().encode(JSON.stringify(doc)),
  };
}

describe('acd edge (live): re-identification over the control direction', () => {
  it('answers a dual-signed request for exactly the named records and refuses everything else', async () => {
    const table = (await loadPrefixTable({ cacheDir: join(ROOT, 'data', 'cache') })).table;
    const addrs = testAddresses(table);
    const data = join(dir, 'data');
    const config = localEdgeConfig({
      providerId: PROVIDER,
      dir: data,
      cacheDir: join(ROOT, 'data', 'cache'),
      listen: ['udp://127.0.0.1:0'],
      batchMaxAgeMs: 50,
      drainTimeoutMs: 1000,
    });
    const e = config.edge;
    const setup = demoSetup('JP', PROVIDER, 'demo');
    setup.trustedKeys = setup.trustedKeys.with([authoriser(alice, 'alice'), authoriser(bob, 'bob')]);

    const log = capture();
    const logger = pino({ level: 'debug', base: undefined }, log.stream);
    const bus = createMemoryBus({ clock: systemClock });
    const edge = createEdge(
      { clock: systemClock, logger, metrics: new MetricsRegistry(), bus },
      { edge: e, collect: config.collect, setup, table, tableSource: { kind: 'packaged' } },
    );
    const received: SelectedRecord[] = [];
    const answers: { envelope: DeliveredControl; body: ReidentificationAnswerBody }[] = [];
    await edge.start();
    let fleet: ReturnType<typeof createExporterFleet> | undefined;
    try {
      await until('the bus', () => (edge.stats().busConnected ? true : undefined));
      await bus.subscribe('centre', (b) => {
        received.push(...b.records);
        return Promise.resolve();
      });
      await bus.subscribeControlAnswers('centre-answers', (m) => {
        answers.push({
          envelope: m,
          body: JSON.parse(new TextDecoder().decode(m.payload)) as ReidentificationAnswerBody,
        });
        return Promise.resolve();
      });

      // Select some records: the source port identifies the flow, so the original addresses of
      // every selected record are known to the test (and only to the test).
      const port = edge.addresses()[0]!.port;
      const exporters: ExporterConfig[] = [
        {
          id: 'r-ipfix',
          address: '127.0.0.41',
          format: 'ipfix',
          observationDomainId: 1,
          samplingInterval: 1,
        },
        {
          id: 'r-v9',
          address: '127.0.0.42',
          format: 'netflow9',
          observationDomainId: 2,
          samplingInterval: 1,
        },
      ];
      fleet = createExporterFleet({ exporters, seed: 5, output: createUdpOutput('127.0.0.1', port) });
      await fleet.start();
      const flows = edgeFlows(140, addrs, Date.now() - 1000);
      const byPort = new Map<number, (typeof flows)[number]['fields']>();
      for (const [k, { fields, kind }] of flows.entries()) {
        byPort.set(fields.sourceTransportPort as number, fields);
        fleet.submit(kind === 'outbound6' ? 0 : k % 2, fields, Date.now());
      }
      fleet.flushAll(Date.now());
      const outbound = (v6: boolean): SelectedRecord | undefined =>
        received.find(
          (r) =>
            r.source.pseudonymised &&
            !r.destination.pseudonymised &&
            typeof (v6 ? r.fields.sourceIPv6Address : r.fields.sourceIPv4Address) === 'string',
        );
      const r4 = await until('an IPv4 record with a pseudonymised source', () => outbound(false));
      const r6 = await until('an IPv6 record with a pseudonymised source', () => outbound(true));
      const pseudonym = (r: SelectedRecord): string =>
        (r.fields.sourceIPv4Address ?? r.fields.sourceIPv6Address) as string;
      const original = (r: SelectedRecord): string => {
        const f = byPort.get(r.fields.sourceTransportPort as number)!;
        return (f.sourceIPv4Address ?? f.sourceIPv6Address) as string;
      };
      // Pseudonymised, so the records on the bus do not carry the originals.
      expect(pseudonym(r4)).not.toBe(original(r4));
      expect(pseudonym(r6)).not.toBe(original(r6));
      const revealed = [original(r4), original(r6)];

      const now = Date.now();
      const request = (
        id: string,
        records: ReidentificationRequestPayload['records'],
      ): ReidentificationRequestPayload => ({
        type: 'reidentification-request',
        id,
        providerId: PROVIDER,
        purpose: 'incident-response',
        caseId: 'case-7',
        issuedAt: new Date(now - 1000).toISOString(),
        expiresAt: new Date(now + 3600_000).toISOString(),
        records,
      });
      const named = (r: SelectedRecord, p = pseudonym(r)) => ({
        recordId: r.recordId,
        keyEpoch: r.provenance.keyEpoch,
        addresses: [p],
      });
      const answerTo = (messageId: string) =>
        until(`the answer to ${messageId}`, () =>
          answers.find((a) => a.envelope.correlationId === messageId),
        );

      // (a) Two distinct authorisers, two named records: exactly their two original addresses.
      const valid = signDocument(request('reid-a', [named(r4), named(r6)]), [alice, bob]);
      await bus.publishControl(PROVIDER, envelope(valid, 'ctl-a'));
      const a = await answerTo('ctl-a');
      expect(a.envelope.kind).toBe('reident-answer');
      expect(a.envelope.target).toBe(`${PROVIDER}`);
      expect(a.body).toEqual({
        type: 'reidentification-answer',
        outcome: 'answered',
        requestId: 'reid-a',
        caseId: 'case-7',
        results: [
          {
            recordId: r4.recordId,
            keyEpoch: r4.provenance.keyEpoch,
            pseudonym: pseudonym(r4),
            address: revealed[0],
          },
          {
            recordId: r6.recordId,
            keyEpoch: r6.provenance.keyEpoch,
            pseudonym: pseudonym(r6),
            address: revealed[1],
          },
        ],
      });

      // (b) One signer: refused, no address.
      await bus.publishControl(
        PROVIDER,
        envelope(signDocument(request('reid-b', [named(r4)]), [alice]), 'ctl-b'),
      );
      expect((await answerTo('ctl-b')).body).toEqual({
        type: 'reidentification-answer',
        outcome: 'refused',
        requestId: 'reid-b',
        code: 'ERR_REID_SINGLE_SIGNER',
      });

      // (c) The answered request again, in a new envelope: a replay.
      await bus.publishControl(PROVIDER, envelope(valid, 'ctl-c'));
      expect((await answerTo('ctl-c')).body).toEqual({
        type: 'reidentification-answer',
        outcome: 'refused',
        requestId: 'reid-a',
        code: 'ERR_REID_REPLAY',
      });

      // (d) A named record with a pseudonym it did not carry (another record's, and a made-up one):
      // the key would reveal either, so the edge must refuse.
      const swapped = signDocument(request('reid-d', [named(r4, pseudonym(r6))]), [alice, bob]);
      await bus.publishControl(PROVIDER, envelope(swapped, 'ctl-d'));
      expect((await answerTo('ctl-d')).body).toMatchObject({
        outcome: 'refused',
        code: 'ERR_REID_RECORD_UNKNOWN',
      });
      const madeUp = signDocument(request('reid-e', [named(r4, '203.0.113.77')]), [alice, bob]);
      await bus.publishControl(PROVIDER, envelope(madeUp, 'ctl-e'));
      expect((await answerTo('ctl-e')).body).toMatchObject({
        outcome: 'refused',
        code: 'ERR_REID_RECORD_UNKNOWN',
      });

      // Garbage on the control direction is refused, typed.
      await bus.publishControl(PROVIDER, {
        ...envelope(null, 'ctl-f'),
        payload: new TextEncoder().encode('{not json'),
      });
      expect((await answerTo('ctl-f')).body).toMatchObject({ outcome: 'refused', code: 'ERR_REID_INVALID' });

      expect(answers.filter((x) => x.body.outcome === 'answered')).toHaveLength(1);
      expect(edge.stats().reidentification).toEqual({ answered: 1, refused: 5, recordsRevealed: 2 });

      // The replay memory survives a restart: it is on disk (mode 0600), without addresses.
      const stateFile = e.reidentification.stateFile;
      expect(statSync(stateFile).mode & 0o777).toBe(0o600);
      const state = readFileSync(stateFile, 'utf8');
      expect(state).toContain('reid-a');
      for (const addr of [...revealed, pseudonym(r4), pseudonym(r6)]) expect(state).not.toContain(addr);

      // The log says what happened, never which addresses.
      const lines = log
        .text()
        .split('\n')
        .filter((l) => l !== '');
      const reidLines = lines.filter((l) => l.includes('"reid: request'));
      expect(reidLines).toHaveLength(6);
      expect(lines.find((l) => l.includes('reid: request answered'))).toMatch(
        /"records":2.*"outcome":"answered"/,
      );
      for (const addr of revealed) expect(lines.filter((l) => l.includes(addr))).toEqual([]);
    } finally {
      await fleet?.stop();
      await edge.stop();
      await bus.stop();
    }
  }, 60_000);
});
