// The understanding worker's entry point. Worker threads do not inherit the main thread's
// TypeScript loader (bin/sportello.js registers tsx there): register it here, then run the worker.
import { register } from 'tsx/esm/api';

register();
await import('./understanding-worker.ts');
