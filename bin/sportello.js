#!/usr/bin/env node
// The `sportello` command: runs the compiled CLI in dist/ (`npm run build`; `npm install` builds it).
import { existsSync } from 'node:fs';

// restify 11 reads process.binding('http_parser') once (DEP0111): harmless, and not the user's concern.
const emitWarning = process.emitWarning;
process.emitWarning = function filterWarnings(warning, ...rest) {
  const code = typeof rest[0] === 'object' && rest[0] !== null ? rest[0].code : rest[1];
  if (code === 'DEP0111') return;
  return emitWarning.call(process, warning, ...rest);
};

const main = new URL('../dist/cli/main.js', import.meta.url);
// In a checkout (scripts/ is not in the package): say so when the sources changed since the build.
const builder = new URL('../scripts/build.mjs', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('sportello: dist/ is missing: run `npm run build` (or `npm install`) first\n');
  process.exit(1);
}
if (existsSync(builder) && (await import(builder.href)).isStale()) {
  process.stderr.write('sportello: warning: src/ changed since the last build; run `npm run build` to use the changes\n');
}
await import(main.href);
