/**
 * The centre as one piece (issue 7, "Centre"): selected records of a SYN flood go over the memory
 * bus into the centre with real detection and correlation and a MemoryStore; the incident reaches
 * the store and the live-event hub, and an analyst's state change and false-positive marking work.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/common/clock.ts';
import { createLogger } from '../src/common/logging.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import { resolveCorrelateConfig } from '../src/correlate/index.ts';
import { resolveDetectConfig } from '../src/detect/index.ts';
import { createEventHub, type HubEvent } from '../src/serve/events.ts';
import type { Actor } from '../src/serve/auth.ts';
import { MemoryStore } from '../src/store/memory/store.ts';
import { synFloodRecords, T0 } from '../src/store/testing.ts';
import { createMemoryBus, type Bus } from '../src/transport/index.ts';
import { createCentre, type Centre } from '../src/cli/centre/centre.ts';

const VICTIM = '10.20.30.40';

const actor: Actor = { user: 'analyst-1', role: 'analyst', purpose: 'monitoring' };

describe('centre: bus → detection → correlation → store and live events', () => {
  let bus: Bus | undefined;
  let centre: Centre | undefined;

  afterEach(async () => {
    await centre?.stop();
    await bus?.stop();
    centre = undefined;
    bus = undefined;
  });

  it('turns a DDoS arriving over the bus into a stored, published incident an analyst can act on', async () => {
    const clock = new ManualClock(T0 + 60_000);
    const logger = createLogger({ level: 'silent' });
    bus = createMemoryBus({ clock });
    await bus.start();
    const store = new MemoryStore();
    await store.open();
    const events = createEventHub(1000);
    const published: HubEvent[] = [];
    events.subscribe((e) => published.push(e));
    centre = createCentre(
      { clock, logger, metrics: new MetricsRegistry(), bus, store, events },
      {
        detect: resolveDetectConfig(),
        correlate: resolveCorrelateConfig(),
        evidenceRetentionMs: 86_400_000,
        consumer: 'centre',
        // Small appends so that several coalesced appends happen in this test.
        ingest: { parallel: 4, appendIntervalMs: 20, appendMaxRecords: 500 },
      },
    );
    await centre.start();

    const records = synFloodRecords(VICTIM);
    for (let off = 0, n = 0; off < records.length; off += 100, n++)
      await bus.publishBatch('provider-1', n % 4, {
        batchId: `provider-1.embedded.${n}`,
        records: records.slice(off, off + 100),
      });

    // Every record stored (acknowledged only after its append), then detection flushed.
    for (let i = 0; i < 500 && centre.stats().stored < records.length; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(centre.stats().stored).toBe(records.length);
    expect(centre.stats().appends).toBeGreaterThan(1);
    expect(centre.stats().appends).toBeLessThan(records.length / 100);
    await centre.flush(true);

    const page = await store.listIncidents({ limit: 10 });
    const incident = page.items.find((i) => i.detectors.includes('ddos'));
    expect(incident).toBeDefined();
    expect([...incident!.subjects, ...incident!.counterparts].some((s) => s.includes(VICTIM))).toBe(true);
    expect(
      published.some((e) => e.type === 'incident' && JSON.stringify(e.data).includes(incident!.id)),
    ).toBe(true);
    expect(published.some((e) => e.type === 'alert')).toBe(true);
    expect(centre.overview().detectors.find((d) => d.name === 'ddos')?.alerts).toBeGreaterThan(0);

    // An analyst triages the incident: state moves in the store and on the live stream.
    const moved = await centre.actions.transitionIncident(incident!.id, 'triaged', 'looking into it', actor);
    expect(moved.state).toBe('triaged');
    expect((await store.getIncident(incident!.id))?.incident.state).toBe('triaged');
    const last = published.at(-1);
    expect(last?.type).toBe('incident');
    expect(JSON.stringify(last?.data)).toContain('triaged');

    // And marks its alert a false positive: an audited suppression rule in the store.
    const alertId = incident!.alerts[0]!;
    const rule = await centre.actions.markFalsePositive(alertId, 'load test of our own', actor);
    expect(rule.detector).toBe('ddos');
    expect((await store.listSuppressions()).map((r) => r.id)).toContain(rule.id);
    expect(await centre.actions.deleteSuppression(rule.id, actor)).toBe(true);
    expect(await store.listSuppressions()).toHaveLength(0);
  }, 60_000);
});
