// Entry of the generator's worker thread. The CLI runs TypeScript through tsx's loader, which
// Node 20 does not carry into worker threads, so the worker registers it before loading worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
