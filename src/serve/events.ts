/**
 * The live-event hub behind `/api/events` (server-sent events): the centre publishes alerts,
 * incidents and statistics; every event gets the next sequence number; retained events are kept in
 * a bounded ring so a reconnecting client (`Last-Event-ID`) gets what it missed. The ring is a
 * copy of alerts and incidents, so the retention job purges it too (`purgeBefore`).
 */
import { systemClock, type Clock } from '../common/clock.ts';

/**
 * Event types of the stream (api.md); `oversight.bulk-access` is a bulk-access alert (R-OVS-4,
 * src/oversee/bulk).
 */
export type EventType = 'alert' | 'incident' | 'stats' | 'oversight.bulk-access';

/** One published event; `data` is the JSON text sent to clients (serialised once). */
export interface HubEvent {
  seq: number;
  type: EventType;
  data: string;
}

/** Options of one publish. */
export interface PublishOptions {
  /**
   * Keep the event for catch-up (default true). Statistics are sent with `retain: false`: a
   * reconnecting client wants the next figures, not a minute of old ones, and they would push
   * alerts out of the ring.
   */
  retain?: boolean;
}

/** A listener of live events. Must not throw; slow consumers buffer on their own side. */
export type EventListener = (e: HubEvent) => void;

/** The hub. */
export interface EventHub {
  /**
   * Publishes `data` (the API's JSON form: use `alertJson`, `incidentItemJson`) and returns its
   * sequence number.
   */
  publish(type: EventType, data: unknown, options?: PublishOptions): number;
  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: EventListener): () => void;
  /** Retained events with `seq` greater than `afterSeq`, oldest first (what the ring still holds). */
  since(afterSeq: number): HubEvent[];
  /**
   * Drops retained events published before `t` (epoch ms, the hub's clock) and returns how many:
   * the retention job's purger of the replay ring (R-RET-1).
   */
  purgeBefore(t: number): number;
  /** The last sequence number handed out (0 before the first publish). */
  readonly lastSeq: number;
  /** Listeners registered. */
  readonly listeners: number;
}

/** Largest ring the hub accepts (the config bound). */
export const MAX_RING_SIZE = 1_000_000;

/** Creates a hub retaining the last `ringSize` retained events (`clock` times them for purging). */
export function createEventHub(ringSize: number, clock: Clock = systemClock): EventHub {
  if (!Number.isInteger(ringSize) || ringSize < 1 || ringSize > MAX_RING_SIZE)
    throw new RangeError(`ringSize must be an integer in 1..${MAX_RING_SIZE}`);
  const ring: (HubEvent | undefined)[] = new Array<HubEvent | undefined>(ringSize);
  // publish time of the event in the same slot of `ring`
  const times = new Float64Array(ringSize);
  let head = 0; // next slot to write
  let held = 0;
  let seq = 0;
  const listeners = new Set<EventListener>();

  return {
    publish(type, data, options) {
      const e: HubEvent = { seq: ++seq, type, data: JSON.stringify(data) ?? 'null' };
      if (options?.retain !== false) {
        ring[head] = e;
        times[head] = clock.now();
        head = (head + 1) % ringSize;
        if (held < ringSize) held++;
      }
      for (const l of listeners) l(e);
      return e.seq;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    since(afterSeq) {
      const out: HubEvent[] = [];
      for (let i = 0; i < held; i++) {
        const e = ring[(head - held + i + ringSize) % ringSize];
        if (e && e.seq > afterSeq) out.push(e);
      }
      return out;
    },
    purgeBefore(t) {
      const keep: { e: HubEvent; at: number }[] = [];
      for (let i = 0; i < held; i++) {
        const slot = (head - held + i + ringSize) % ringSize;
        const e = ring[slot];
        if (e && (times[slot] ?? 0) >= t) keep.push({ e, at: times[slot] ?? 0 });
      }
      const purged = held - keep.length;
      if (purged === 0) return 0;
      ring.fill(undefined);
      keep.forEach((k, i) => {
        ring[i] = k.e;
        times[i] = k.at;
      });
      held = keep.length;
      head = held % ringSize;
      return purged;
    },
    get lastSeq() {
      return seq;
    },
    get listeners() {
      return listeners.size;
    },
  };
}

/** Formats one event in the `text/event-stream` syntax (data is single-line JSON). */
export function formatEvent(e: HubEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${e.data}\n\n`;
}

/** Longest `Last-Event-ID` value parsed. */
export const MAX_EVENT_ID_LENGTH = 20;

/**
 * The sequence number of a `Last-Event-ID` header or `lastEventId` parameter: a decimal integer,
 * or undefined for anything else (then the client gets live events only). Pure.
 */
export function parseLastEventId(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v.length === 0 || v.length > MAX_EVENT_ID_LENGTH || !/^[0-9]+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}
