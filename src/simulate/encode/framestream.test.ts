import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createFrameStreamReader, createFrameStreamReceiver } from '../../collect/decode/dnstap/index.ts';
import { EncodeError } from './errors.ts';
import { connectFrameStreamSender, encodeFrameStreamFile, frameStreamData } from './framestream.ts';

describe('Frame Streams writer', () => {
  it('writes a unidirectional stream: START with the content type, data frames, STOP', () => {
    const file = encodeFrameStreamFile([new Uint8Array([1, 2, 3]), new Uint8Array([4]), new Uint8Array([9])]);
    const frames = createFrameStreamReader().push(file);
    expect(frames.map((f) => f.kind)).toEqual(['control', 'data', 'data', 'data', 'control']);
    const r = createFrameStreamReceiver({ bidirectional: false });
    const out = r.push(file);
    expect(out.data.map((d) => [...d])).toEqual([[1, 2, 3], [4], [9]]);
    expect(r.state).toBe('finished');
    // Length 0 is the control-frame escape: an empty payload cannot be a data frame.
    expect(() => frameStreamData(new Uint8Array(0))).toThrow(EncodeError);
  });

  it('runs the bidirectional handshake READY, ACCEPT, START ... STOP, FINISH against acd receiver', async () => {
    const got: number[][] = [];
    let state = '';
    const server = createServer((s: Socket) => {
      const r = createFrameStreamReceiver({ bidirectional: true });
      s.on('data', (chunk: Buffer) => {
        const res = r.push(chunk);
        for (const d of res.data) got.push([...d]);
        for (const reply of res.replies) s.write(reply);
        state = r.state;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const sender = await connectFrameStreamSender({ host: '127.0.0.1', port, localAddress: '127.0.0.7' });
    sender.send(new Uint8Array([5, 6]));
    sender.send(new Uint8Array([7]));
    await sender.close();
    await new Promise<void>((r) => server.close(() => r()));
    expect(got).toEqual([[5, 6], [7]]);
    expect(state).toBe('finished');
  });
});
