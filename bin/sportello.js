#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npm install` then `npm start` needs no build step.
import { register } from 'tsx/esm/api';

// restify 11 reads process.binding('http_parser') once (DEP0111): harmless, and not the user's concern.
const emitWarning = process.emitWarning;
process.emitWarning = function filterWarnings(warning, ...rest) {
  const code = typeof rest[0] === 'object' && rest[0] !== null ? rest[0].code : rest[1];
  if (code === 'DEP0111') return;
  return emitWarning.call(process, warning, ...rest);
};

register();
await import('../src/cli/main.ts');
