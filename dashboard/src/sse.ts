/**
 * A parser for the text/event-stream format (HTML Living Standard, "server-sent events"), fed
 * with decoded text chunks as they arrive. The dashboard reads /api/events with fetch instead of
 * EventSource because EventSource cannot send the Authorization header. Pure: no DOM, no I/O.
 * The stream is untrusted input, so lines and event data are bounded: an over-long line or event
 * is dropped (and counted), never buffered without limit.
 */

/** Longest line kept, in characters; longer lines are discarded up to their end. */
export const MAX_SSE_LINE_CHARS = 1 << 20;
/** Largest `data` of one event, in characters; bigger events are dropped whole. */
export const MAX_SSE_EVENT_CHARS = 4 << 20;

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field, `message` when absent. */
  type: string;
  /** The `data:` lines joined with newlines. */
  data: string;
  /** The last event id seen so far in the stream (persists across events, as the spec says). */
  lastEventId: string;
}

/** Incremental parser state; see {@link createSseParser}. */
export interface SseParser {
  /** Feeds a chunk of text and returns the events completed by it. */
  push(chunk: string): SseEvent[];
  /** The last `id:` seen (to send back as Last-Event-ID on reconnect). */
  readonly lastEventId: string;
  /** The last valid `retry:` in ms, if any. */
  readonly retryMs: number | undefined;
  /** Lines or events dropped because they exceeded the limits. */
  readonly dropped: number;
}

/** Limits of one parser. */
export interface SseLimits {
  maxLineChars: number;
  maxEventChars: number;
}

/** Creates a parser with the default (or given) limits. */
export function createSseParser(
  limits: SseLimits = { maxLineChars: MAX_SSE_LINE_CHARS, maxEventChars: MAX_SSE_EVENT_CHARS },
): SseParser {
  let line = '';
  let discardingLine = false;
  let afterCR = false;
  let data: string[] = [];
  let dataChars = 0;
  let eventOverflow = false;
  let type = '';
  let lastEventId = '';
  let retryMs: number | undefined;
  let dropped = 0;
  let out: SseEvent[] = [];

  const dispatch = (): void => {
    if (eventOverflow) {
      dropped++;
    } else if (data.length > 0) {
      out.push({ type: type === '' ? 'message' : type, data: data.join('\n'), lastEventId });
    }
    data = [];
    dataChars = 0;
    eventOverflow = false;
    type = '';
  };

  const processLine = (l: string): void => {
    if (l === '') {
      dispatch();
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        type = value;
        break;
      case 'data':
        dataChars += value.length + 1;
        if (dataChars > limits.maxEventChars) eventOverflow = true;
        else data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) retryMs = Number(value);
        break;
      default:
        break;
    }
  };

  const endLine = (): void => {
    if (discardingLine) {
      discardingLine = false;
      dropped++;
      // A discarded data line poisons its event rather than silently shortening it.
      eventOverflow = true;
    } else {
      processLine(line);
    }
    line = '';
  };

  return {
    push(chunk: string): SseEvent[] {
      out = [];
      if (chunk === '') return out;
      let i = 0;
      if (afterCR && chunk.startsWith('\n')) i = 1;
      afterCR = false;
      while (i < chunk.length) {
        let j = i;
        while (j < chunk.length && chunk[j] !== '\n' && chunk[j] !== '\r') j++;
        if (!discardingLine) {
          if (line.length + (j - i) > limits.maxLineChars) {
            discardingLine = true;
            line = '';
          } else {
            line += chunk.slice(i, j);
          }
        }
        if (j === chunk.length) break;
        endLine();
        if (chunk[j] === '\r') {
          if (j + 1 === chunk.length) afterCR = true;
          else if (chunk[j + 1] === '\n') j++;
        }
        i = j + 1;
      }
      return out;
    },
    get lastEventId() {
      return lastEventId;
    },
    get retryMs() {
      return retryMs;
    },
    get dropped() {
      return dropped;
    },
  };
}
