/**
 * `npm run build` (and `npm install`, through `prepare`): compiles src/ to dist/ — JavaScript,
 * declarations and source maps — and copies beside it the files the code reads at run time (the
 * console, the web chat page, SQL). dist/ is rebuilt from scratch, so nothing of a removed source
 * survives; `dist/.built` records when. `isStale()` tells whether a source changed since.
 */
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.built');
/** What the build reads besides src/. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** The newest modification time under `path` (a file or a folder), in ms. */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

/** True when dist/ is missing or older than a source (a file of src/ or the build's settings). */
export function isStale() {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return [join(ROOT, 'src'), ...INPUTS.map((f) => join(ROOT, f))].some((p) => existsSync(p) && newest(p) > built);
}

/** Compiles and copies; returns tsc's exit code (0 when dist/ is complete). */
export function build() {
  rmSync(DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
  if (compiled.status !== 0) return compiled.status ?? 1;
  // Files read at run time: everything in src/ that is not TypeScript (the .mjs worker entry is
  // for running the TypeScript sources and stays behind).
  cpSync(join(ROOT, 'src'), DIST, {
    recursive: true,
    filter: (source) => statSync(source).isDirectory() || !/\.(?:ts|mts|mjs)$/.test(source),
  });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const onlyIfStale = process.argv.includes('--if-stale');
  if (!onlyIfStale || isStale()) process.exitCode = build();
}
