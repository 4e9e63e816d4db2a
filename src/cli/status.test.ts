import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../common/clock.ts';
import { humanCount, RateMeter, StatusLine } from './status.ts';

function sink(): { stream: Writable; text: () => string } {
  const parts: string[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, cb): void {
      parts.push(c.toString());
      cb();
    },
  });
  return { stream, text: () => parts.join('') };
}

describe('status line', () => {
  it('redraws in place on a terminal', () => {
    const s = sink();
    const line = new StatusLine({
      stream: s.stream,
      interactive: true,
      clock: new ManualClock(),
      prefix: 'x: ',
    });
    line.update('one');
    line.update('two');
    line.done();
    expect(s.text()).toBe('\r\x1b[2Kx: one\r\x1b[2Kx: two\n');
  });

  it('prints one line per interval in a pipe', () => {
    const s = sink();
    const clock = new ManualClock();
    const line = new StatusLine({ stream: s.stream, interactive: false, clock });
    line.update('a');
    clock.advance(5000);
    line.update('b');
    clock.advance(5000);
    line.update('c');
    line.done();
    expect(s.text()).toBe('a\nc\n');
  });

  it('computes per-second rates and compact numbers', () => {
    const clock = new ManualClock();
    const m = new RateMeter<'n'>(clock);
    expect(m.sample({ n: 10 }).n).toBe(0);
    clock.advance(2000);
    expect(m.sample({ n: 110 }).n).toBe(50);
    expect(humanCount(950)).toBe('950');
    expect(humanCount(12_345)).toBe('12.3k');
    expect(humanCount(4_560_000)).toBe('4.56M');
  });
});
