#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npm install` then `npm start` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
