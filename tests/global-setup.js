/**
 * Jest's global setup: tests run the TypeScript sources, but those that start the `sportello`
 * command (bin/sportello.js) run the compiled dist/. Build it first when a source is newer.
 */
import { build, isStale } from '../scripts/build.mjs';

export default function globalSetup() {
  if (!isStale()) return;
  process.stdout.write('\ndist/ is older than src/: building it for the tests that run bin/sportello.js\n');
  if (build() !== 0) process.stdout.write('the build failed: tests that run bin/sportello.js will fail\n');
}
