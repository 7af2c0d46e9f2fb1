// The understanding worker's entry point when Sportello runs from its TypeScript sources (jest,
// benchmarks): worker threads do not inherit the main thread's TypeScript loader, so register tsx
// here, then run the worker. Compiled code (dist/) starts understanding-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./understanding-worker.ts');
