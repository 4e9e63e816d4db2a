import { runBusContract } from '../contract.ts';
import { createMemoryBus } from './bus.ts';

runBusContract('memory', () => {
  const bus = createMemoryBus({}, { redeliveryDelayMs: 50 });
  return Promise.resolve({ bus, dispose: () => bus.stop() });
});
