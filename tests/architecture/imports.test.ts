import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const SRC = resolve(process.cwd(), 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Top-level area of a file under src/ (core, pipeline, channels/twitter, storage/lowdb, ...). */
function area(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts.length === 1) return parts[0]!.replace(/\.[jt]s$/, '');
  if (parts[0] === 'channels' || parts[0] === 'storage') return `${parts[0]}/${parts[1]!.replace(/\.[jt]s$/, '')}`;
  return parts[0]!;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    found.push(resolve(dirname(file), spec));
  }
  return found;
}

/** Which areas each area may import (besides itself). */
function allowed(from: string, to: string): boolean {
  if (from === to) return true;
  if (to === 'util') return true;
  if (from === 'util') return false;
  if (from === 'core') return false;
  if (to === 'core') return true;
  // Only the composition root, the CLI, the test runner and the package's public entry (index.ts)
  // meet concrete channels and stores.
  const composition = ['app', 'cli', 'testing', 'main', 'index'];
  // The channels' shared kit (the definition type and their values in the store) is for every channel;
  // the registry lists the channels; config reads their variables through the catalog.
  const kit = ['channels/definition', 'channels/values'];
  if (kit.includes(to)) return from.startsWith('channels/') || composition.includes(from);
  if (from === 'channels/registry') return to.startsWith('channels/') && to !== 'channels/catalog';
  if (to === 'channels/registry') return from === 'channels/catalog';
  if (to === 'channels/catalog') return from === 'config' || composition.includes(from);
  // storage/index is createStore, the one place that picks a concrete store; storage/snapshot and
  // storage/values and storage/desk-records are what both stores share.
  const storageShared = ['storage/snapshot', 'storage/values', 'storage/desk-records'];
  if (to.startsWith('channels/') || to.startsWith('storage/')) {
    return (
      composition.includes(from) ||
      (from.startsWith('storage/') && storageShared.includes(to)) ||
      (from === 'storage/index' && (to === 'storage/lowdb' || to === 'storage/postgres'))
    );
  }
  if (to === 'app') return composition.includes(from);
  if (to === 'server') return composition.includes(from) || from.startsWith('channels/');
  if (to === 'cli') return from === 'cli';
  if (from.startsWith('channels/') || from.startsWith('storage/')) return ['config', 'core', 'util'].includes(to) || storageShared.includes(to);
  return true;
}

describe('import direction', () => {
  const all = files(SRC);

  it('finds the source files', () => {
    expect(all.length).toBeGreaterThan(10);
  });

  it('keeps core free of channels, stores, the server and every other layer', () => {
    const offenders = all
      .filter((f) => area(f) === 'core')
      .flatMap((f) => importsOf(f).filter((t) => t.startsWith(SRC) && area(t) !== 'core' && area(t) !== 'util').map((t) => `${relative(SRC, f)} → ${relative(SRC, t)}`));
    expect(offenders).toEqual([]);
  });

  it('lets only the composition root, the CLI and the test runner meet concrete channels and stores', () => {
    const offenders = all.flatMap((f) =>
      importsOf(f)
        .filter((t) => t.startsWith(SRC))
        .filter((t) => !allowed(area(f), area(t)))
        .map((t) => `${relative(SRC, f)} → ${relative(SRC, t)}`),
    );
    expect(offenders).toEqual([]);
  });

  it('would catch a forbidden import (the rule itself is not vacuous)', () => {
    expect(allowed('core', 'channels/twitter')).toBe(false);
    expect(allowed('core', 'storage/lowdb')).toBe(false);
    expect(allowed('core', 'server')).toBe(false);
    expect(allowed('pipeline', 'storage/postgres')).toBe(false);
    expect(allowed('pipeline', 'storage/index')).toBe(false);
    expect(allowed('handoff', 'storage/index')).toBe(false);
    expect(allowed('app', 'storage/index')).toBe(true);
    expect(allowed('channels/twitter', 'pipeline')).toBe(false);
    expect(allowed('channels/twitter', 'channels/messenger')).toBe(false);
    expect(allowed('config', 'channels/twitter')).toBe(false);
    expect(allowed('pipeline', 'channels/catalog')).toBe(false);
  });
});
