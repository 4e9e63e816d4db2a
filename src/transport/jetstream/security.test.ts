/**
 * NATS security as documented in ../README.md: a private nats-server with TLS (a CA and server
 * certificate made here with openssl) and per-provider users whose permissions cover only their
 * own subjects. Proves that provider A cannot publish on provider B's subjects and that each edge
 * still publishes its own batches and receives its own control messages.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, DeliveredBatch, DeliveredControl } from '../bus.ts';
import { until } from '../contract.ts';
import { BusPublishError } from '../errors.ts';
import { NATS_SERVER_BIN, sampleRecords, startNatsServer, type PrivateNatsServer } from '../testing.ts';
import { createJetStreamBus, type StreamNames } from './bus.ts';

const OPENSSL = '/usr/bin/openssl';
const available = existsSync(OPENSSL) && existsSync(NATS_SERVER_BIN);
if (!available && process.env.ACD_REQUIRE_SERVICES === '1') throw new Error('openssl or nats-server missing');

const STREAMS: StreamNames = { data: 'ACD_SEL', control: 'ACD_CTL', stats: 'ACD_STAT' };

/** The permissions of one provider's edge user (the documented template). */
function providerUser(p: string, password: string): string {
  const pub = [
    `acd.sel.${p}.>`,
    `acd.stat.${p}`,
    `acd.ctl.${p}.answer`,
    // Its two durable control consumers: create (filter pinned in the subject), info, pull, ack.
    `$JS.API.CONSUMER.CREATE.ACD_CTL.ctl-${p}.acd.ctl.${p}`,
    `$JS.API.CONSUMER.CREATE.ACD_CTL.ctl-${p}-all.acd.ctl.all`,
    `$JS.API.CONSUMER.INFO.ACD_CTL.ctl-${p}`,
    `$JS.API.CONSUMER.INFO.ACD_CTL.ctl-${p}-all`,
    `$JS.API.CONSUMER.MSG.NEXT.ACD_CTL.ctl-${p}`,
    `$JS.API.CONSUMER.MSG.NEXT.ACD_CTL.ctl-${p}-all`,
    `$JS.ACK.ACD_CTL.ctl-${p}.>`,
    `$JS.ACK.ACD_CTL.ctl-${p}-all.>`,
  ];
  return `{ user: "${p}", password: "${password}", permissions: { publish: { allow: ${JSON.stringify(pub)} }, subscribe: { allow: ["_INBOX_${p}.>"] } } }`;
}

let server: PrivateNatsServer | undefined;
let ca = '';
let certDir = '';
const buses: Bus[] = [];

beforeAll(async () => {
  if (!available) return;
  const d = mkdtempSync(join(tmpdir(), 'acd-tls-'));
  certDir = d;
  const sh = (...args: string[]): void => {
    execFileSync(OPENSSL, args, { cwd: d, stdio: 'ignore' });
  };
  sh(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=acd test ca',
  );
  sh(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1,DNS:localhost\\n" > ext.cnf'], { cwd: d });
  sh(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  );
  ca = join(d, 'ca.pem');
  server = await startNatsServer(
    `tls { cert_file: "${join(d, 'server.pem')}", key_file: "${join(d, 'server.key')}", ca_file: "${ca}" }
authorization { users: [
  { user: "centre", password: "centre-pw", permissions: { publish: ">", subscribe: ">" } },
  ${providerUser('prov-a', 'a-pw')},
  ${providerUser('prov-b', 'b-pw')}
] }`,
    'tls',
  );
}, 60_000);

afterAll(async () => {
  for (const b of buses) await b.stop().catch(() => undefined);
  await server?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

function edge(p: string, password: string): Bus {
  const bus = createJetStreamBus(
    {},
    {
      servers: server!.url,
      tls: { caFile: ca },
      user: p,
      pass: password,
      inboxPrefix: `_INBOX_${p}`,
      manageStreams: false,
      publishTimeoutMs: 2000,
      redeliveryDelayMs: 100,
    },
  );
  buses.push(bus);
  return bus;
}

describe.skipIf(!available)('nats security: TLS and per-provider permissions', () => {
  it('lets each edge publish only its own subjects and read only its own control messages', async () => {
    const centre = createJetStreamBus(
      {},
      { servers: server!.url, tls: { caFile: ca }, user: 'centre', pass: 'centre-pw', streams: STREAMS },
    );
    buses.push(centre);
    await centre.start();
    const a = edge('prov-a', 'a-pw');
    await a.start();

    // Own subject: accepted.
    const ack = await a.publishBatch('prov-a', 0, {
      batchId: 'prov-a.e1.1',
      records: sampleRecords('prov-a', 5),
    });
    expect(ack.duplicate).toBe(false);
    // Provider B's subjects: refused by the server.
    await expect(
      a.publishBatch('prov-b', 0, { batchId: 'prov-a.e1.2', records: sampleRecords('prov-b', 5) }),
    ).rejects.toBeInstanceOf(BusPublishError);
    await expect(
      a.publishStats('prov-b', { kind: 'health', providerId: 'prov-b', at: 1, body: {} }),
    ).rejects.toBeInstanceOf(BusPublishError);
    await a.publishStats('prov-a', { kind: 'health', providerId: 'prov-a', at: 1, body: {} });

    // Only prov-a's batch reached the stream.
    const got: DeliveredBatch[] = [];
    const sub = await centre.subscribe('centre', (b) => {
      got.push(b);
      return Promise.resolve();
    });
    await until(() => got.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    await sub.stop();
    expect(got.map((b) => b.providerId)).toEqual(['prov-a']);

    // Control: prov-a receives what is addressed to it and to all, never prov-b's.
    const payload = new Uint8Array([1, 2, 3]);
    for (const [target, id] of [
      ['prov-a', 'c1'],
      ['prov-b', 'c2'],
      ['all', 'c3'],
    ] as const)
      await centre.publishControl(target, {
        messageId: id,
        kind: 'approval',
        from: 'centre',
        issuedAt: 1,
        contentType: 'application/octet-stream',
        payload,
      });
    const ctl: DeliveredControl[] = [];
    const cs = await a.subscribeControl('prov-a', (m) => {
      ctl.push(m);
      return Promise.resolve();
    });
    await until(() => ctl.length === 2);
    await cs.stop();
    expect(ctl.map((m) => m.messageId).sort()).toEqual(['c1', 'c3']);
    // prov-a cannot consume prov-b's control messages.
    await expect(a.subscribeControl('prov-b', () => Promise.resolve())).rejects.toThrow();
  }, 60_000);

  it('refuses plain-text connections and wrong passwords', async () => {
    const noTls = createJetStreamBus(
      {},
      {
        servers: server!.url.replace('tls://', 'nats://'),
        tls: null as never,
        user: 'prov-a',
        pass: 'a-pw',
        manageStreams: false,
      },
    );
    await expect(noTls.start()).rejects.toThrow();
    const wrong = createJetStreamBus(
      {},
      { servers: server!.url, tls: { caFile: ca }, user: 'prov-a', pass: 'nope', manageStreams: false },
    );
    await expect(wrong.start()).rejects.toThrow();
  }, 30_000);
});
