/**
 * The live event stream (/api/events) over fetch, with the bearer token, reconnecting with
 * Last-Event-ID so that no alert or incident is missed while the connection was down.
 */
import { authHeaders } from './api.ts';
import { createSseParser } from './sse.ts';

/** A parsed event of the centre. */
export interface LiveEvent {
  type: string;
  id: string;
  data: unknown;
}

/** What the subscriber hears. */
export interface LiveHandlers {
  onEvent(ev: LiveEvent): void;
  onStatus?(connected: boolean): void;
  onUnauthorised?(): void;
}

/** Reconnect delay when the server sends no `retry:`. */
const DEFAULT_RETRY_MS = 2000;

/** Opens the stream; returns a function that closes it. */
export function openLive(handlers: LiveHandlers): () => void {
  let closed = false;
  let lastEventId = '';
  let controller: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const connect = async (): Promise<void> => {
    controller = new AbortController();
    const parser = createSseParser();
    let retry = DEFAULT_RETRY_MS;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
      if (lastEventId !== '') headers['last-event-id'] = lastEventId;
      const res = await fetch('/api/events', { headers, signal: controller.signal, cache: 'no-store' });
      if (res.status === 401) {
        handlers.onUnauthorised?.();
        return;
      }
      if (!res.ok || res.body === null) throw new Error(`events: HTTP ${res.status}`);
      handlers.onStatus?.(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      while (!closed) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const ev of parser.push(value)) {
          lastEventId = ev.lastEventId;
          let data: unknown;
          try {
            data = JSON.parse(ev.data) as unknown;
          } catch {
            continue;
          }
          handlers.onEvent({ type: ev.type, id: ev.lastEventId, data });
        }
        if (parser.retryMs !== undefined) retry = parser.retryMs;
      }
    } catch {
      // Network error or abort: fall through to the reconnect below.
    }
    handlers.onStatus?.(false);
    if (!closed) timer = setTimeout(() => void connect(), retry);
  };

  void connect();
  return () => {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    controller?.abort();
  };
}
