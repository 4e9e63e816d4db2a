/**
 * End to end (issue 8, R-OVS-2): a real live edge (`createEdge`, demonstration feed set, the
 * demo authoriser keys it trusts) receives IPFIX/NetFlow v9 from the simulator's exporters over
 * UDP, selects and pseudonymises, and publishes on a memory bus; the centre side stores what it
 * receives, and the re-identification service of the centre (demo mode: demo-analyst and
 * demo-supervisor sign with the demonstration authoriser keys) asks the edge to reveal one stored
 * record. A asks, B authorises, the edge answers, the centre seals, A reveals and gets the very
 * address the exporter sent. A one-person request is never sent; a request pairing a record with
 * another record's pseudonym is refused before anything is signed or sent; neither the audit
 * chain nor any log line holds a revealed address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { localEdgeConfig } from '../../cli/embedded/edges.ts';
import { createEdge } from '../../cli/edge/edge.ts';
import { demoSetup } from '../../cli/edge/selection.ts';
import { systemClock } from '../../common/clock.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { loadPrefixTable } from '../../common/prefixes/index.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import { createExporterFleet, createUdpOutput, type ExporterConfig } from '../../simulate/exporters/index.ts';
import { MemoryStore } from '../../store/memory/store.ts';
import { createMemoryBus } from '../../transport/index.ts';
import { edgeFlows, ROOT, testAddresses } from '../../../test/helpers/edge.ts';
import { createAuditLog, readAllAudit } from '../audit/index.ts';
import { KeyStore } from '../keys/index.ts';
import { ReidentifyError } from './errors.ts';
import { createReidentificationService } from './service.ts';
import { capture } from '../../../test/helpers/cli.ts';
import { approvalCase } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'acd-reid-e2e-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const PROVIDER = 'isp-reid-centre';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  f: () => T | undefined | Promise<T | undefined>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('re-identification from the centre to a live edge', () => {
  it('A asks, B authorises, the edge answers, the centre seals, A reveals the original address', async () => {
    const table = (await loadPrefixTable({ cacheDir: join(ROOT, 'data', 'cache') })).table;
    const addrs = testAddresses(table);
    const data = join(dir, 'edge');
    const config = localEdgeConfig({
      providerId: PROVIDER,
      dir: data,
      cacheDir: join(ROOT, 'data', 'cache'),
      listen: ['udp://127.0.0.1:0'],
      batchMaxAgeMs: 50,
      drainTimeoutMs: 1000,
    });
    const e = config.edge;
    const log = capture();
    const logger = pino({ level: 'debug', base: undefined }, log.stream);
    const bus = createMemoryBus({ clock: systemClock });
    const edge = createEdge(
      { clock: systemClock, logger: logger.child({ side: 'edge' }), metrics: new MetricsRegistry(), bus },
      {
        edge: e,
        collect: config.collect,
        setup: demoSetup('JP', PROVIDER, 'demo'),
        table,
        tableSource: { kind: 'packaged' },
      },
    );

    // The centre: a store fed from the bus, the audit chain, the re-identification service.
    const store = new MemoryStore();
    await store.open();
    const keys = new KeyStore(join(dir, 'centre', 'keys'), systemClock);
    await keys.init();
    const audit = createAuditLog({
      store,
      clock: systemClock,
      keys,
      checkpointFile: join(dir, 'centre', 'audit', 'checkpoints.ndjson'),
      logger,
    });
    const service = createReidentificationService(
      {
        store,
        clock: systemClock,
        bus,
        signerFor: (u) => keys.personalSigningKey(u),
        audit: (i) => audit.append(i),
        logger: logger.child({ side: 'centre' }),
        sealKeyFile: join(dir, 'centre', 'reidentification', 'seal.key'),
        demo: true,
      },
      { expiryIntervalMs: 3_600_000 },
    );
    await edge.start();
    let fleet: ReturnType<typeof createExporterFleet> | undefined;
    try {
      await until('the bus', () => (edge.stats().busConnected ? true : undefined));
      await audit.start();
      await service.start();
      await bus.subscribe('centre', (b) => store.appendRecords(b.records));

      const now = Date.now();
      await store.putCase(
        approvalCase('case-77', [PROVIDER], now, {
          validFrom: now - 60_000,
          validUntil: now + 86_400_000,
          title: 'C2 investigation',
        }),
      );

      // Real generated records: the source port identifies the flow, so the test (and only the
      // test) knows each selected record's original addresses.
      const port = edge.addresses()[0]!.port;
      const exporters: ExporterConfig[] = [
        {
          id: 'c-ipfix',
          address: '127.0.0.51',
          format: 'ipfix',
          observationDomainId: 1,
          samplingInterval: 1,
        },
        {
          id: 'c-v9',
          address: '127.0.0.52',
          format: 'netflow9',
          observationDomainId: 2,
          samplingInterval: 1,
        },
      ];
      fleet = createExporterFleet({ exporters, seed: 7, output: createUdpOutput('127.0.0.1', port) });
      await fleet.start();
      const flows = edgeFlows(140, addrs, Date.now() - 1000);
      const byPort = new Map<number, (typeof flows)[number]['fields']>();
      for (const [k, { fields, kind }] of flows.entries()) {
        byPort.set(fields.sourceTransportPort as number, fields);
        fleet.submit(kind === 'outbound6' ? 0 : k % 2, fields, Date.now());
      }
      fleet.flushAll(Date.now());
      const outbound = async (skip?: string): Promise<SelectedRecord | undefined> => {
        const p = await store.queryRecords({ from: 0, to: Date.now() + 86_400_000, limit: 1000 });
        return p.items.find(
          (r) =>
            r.recordId !== skip &&
            r.source.pseudonymised &&
            !r.destination.pseudonymised &&
            typeof r.fields.sourceIPv4Address === 'string',
        );
      };
      const rec = await until('a stored record with a pseudonymised source', () => outbound());
      const other = await until('a second one', () => outbound(rec.recordId));
      const pseudonym = (r: SelectedRecord): string => r.fields.sourceIPv4Address as string;
      const original = (r: SelectedRecord): string =>
        byPort.get(r.fields.sourceTransportPort as number)?.sourceIPv4Address as string;
      expect(pseudonym(rec)).not.toBe(original(rec));
      const revealedAddress = original(rec);

      const A = { user: 'demo-analyst', role: 'analyst', purpose: 'investigation' };
      const B = { user: 'demo-supervisor', role: 'supervisor', purpose: 'investigation' };
      const input = (r: SelectedRecord, p: string) => ({
        caseId: 'case-77',
        purpose: 'incident-response',
        providerId: PROVIDER,
        records: [{ recordId: r.recordId, keyEpoch: r.provenance.keyEpoch, addresses: [p] }],
      });

      // Another record's pseudonym under this record's id: refused before signing or sending.
      const smuggled = await service.request(input(rec, pseudonym(other)), A).catch((x: unknown) => x);
      expect(smuggled).toBeInstanceOf(ReidentifyError);
      expect((smuggled as ReidentifyError).code).toBe('ERR_REID_RECORD_MISMATCH');

      // One person only: never sent (the requester cannot be the second authoriser).
      const single = await service.request(input(other, pseudonym(other)), A);
      const same = await service.authorise(single.id, A).catch((x: unknown) => x);
      expect((same as ReidentifyError).code).toBe('ERR_REID_SAME_PERSON');

      // A asks, B authorises: sent, answered by the edge, sealed.
      const v = await service.request(input(rec, pseudonym(rec)), A);
      expect(v.state).toBe('awaiting-second');
      await service.authorise(v.id, B);
      const answered = await until('the sealed answer', async () => {
        const g = await service.get(v.id, A);
        return g.state === 'answered' || g.state === 'refused' ? g : undefined;
      });
      expect(answered.refusal).toBeNull();
      expect(answered.state).toBe('answered');
      expect(answered.sealedReference).toMatch(/^sha256:[0-9a-f]{64}$/);
      // Exactly one request reached the edge (the one-person and the smuggled ones never did).
      expect(edge.stats().reidentification).toEqual({ answered: 1, refused: 0, recordsRevealed: 1 });

      const { results } = await service.reveal(v.id, A);
      expect(results).toEqual([
        {
          recordId: rec.recordId,
          keyEpoch: rec.provenance.keyEpoch,
          pseudonym: pseudonym(rec),
          address: revealedAddress,
        },
      ]);
      expect((await service.get(single.id, A)).state).toBe('awaiting-second');

      // The audit chain: who, why, which records, the sealed reference; never the address.
      await audit.stop();
      const entries = await readAllAudit(store);
      const reid = entries.filter((x) => x.action.startsWith('reidentification.'));
      expect(reid.map((x) => x.action)).toEqual([
        'reidentification.request',
        'reidentification.request',
        'reidentification.authorise',
        'reidentification.answered',
        'reidentification.reveal',
      ]);
      const ans = reid[3]!;
      expect(ans.objectIds).toEqual([v.id, 'case-77', rec.recordId]);
      expect(ans.detail).toMatchObject({
        requester: 'demo-analyst',
        secondAuthoriser: 'demo-supervisor',
        purpose: 'incident-response',
        caseId: 'case-77',
        sealedReference: answered.sealedReference,
      });
      expect(reid[4]!.detail).toMatchObject({ sealedReference: answered.sealedReference });
      expect(JSON.stringify(entries)).not.toContain(revealedAddress);
      // Nor the stored request, nor any log line (edge or centre).
      expect(JSON.stringify(await store.getCase(v.id))).not.toContain(revealedAddress);
      const lines = log.text().split('\n');
      expect(lines.filter((l) => l.includes(revealedAddress))).toEqual([]);
      expect(lines.some((l) => l.includes('reid: answer sealed'))).toBe(true);
    } finally {
      await fleet?.stop();
      await service.stop();
      await audit.stop();
      await edge.stop();
      await bus.stop();
      await store.close();
    }
  }, 60_000);
});
