import { afterAll } from 'vitest';
import { runBusContract } from '../contract.ts';
import { deleteStreams, testNatsServer, testToken } from '../testing.ts';
import { createJetStreamBus } from './bus.ts';

const server = await testNatsServer();
afterAll(async () => {
  await server?.stop();
});

runBusContract(
  'jetstream',
  () => {
    const url = server!.url;
    const t = testToken();
    const streams = { data: `T${t}_SEL`, control: `T${t}_CTL`, stats: `T${t}_STAT` };
    const bus = createJetStreamBus(
      {},
      {
        servers: url,
        subjectPrefix: `t${t}`,
        streams,
        redeliveryDelayMs: 100,
        ackWaitMs: 5000,
        duplicateWindowMs: 60_000,
      },
    );
    return Promise.resolve({
      bus,
      dispose: async () => {
        await bus.stop();
        await deleteStreams(url, Object.values(streams));
      },
    });
  },
  server ? undefined : 'no nats-server reachable at 127.0.0.1:4222 and none could be started',
);
