/**
 * The repository stands alone: the product, its tests and its benchmarks read nothing outside
 * it (no path up into a sibling folder of the checkout, no absolute paths of a developer's machine). Data they need is copied in
 * with its licence (bench/datasets/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname ?? '.', '../..');

/** Paths that point outside the repository, as they appear in source text. */
export function outsidePaths(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(['"`])((?:\.\.\/)+shared\b[^'"`]*|\/(?:work|home|root|Users)\/[^'"`]*)\1/g)) found.push(m[2]!);
  return found;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (/\.(?:ts|mts|js|mjs)$/.test(entry.name)) out.push(path);
  }
  return out;
}

describe('the repository stands alone', () => {
  it('finds no path outside the repository in src/, tests/ or bench/', () => {
    const offenders = ['src', 'tests', 'bench']
      .flatMap((d) => sources(join(ROOT, d)))
      .filter((file) => !file.endsWith('stands-alone.test.ts'))
      .flatMap((file) => outsidePaths(readFileSync(file, 'utf8')).map((p) => `${relative(ROOT, file)}: ${p}`));
    expect(offenders).toEqual([]);
  });

  it('notices such a path (the check can fail)', () => {
    // Planted paths, assembled so that this file itself holds none.
    const sibling = ['..', 'shared', 'datasets', 'banking77'].join('/');
    const absolute = ['', 'work', 'shared', 'corpus'].join('/');
    expect(outsidePaths(`const CORPUS = '${absolute}';`)).toEqual([absolute]);
    expect(outsidePaths(`const data = \`${sibling}\`;`)).toEqual([sibling]);
    expect(outsidePaths("import x from '../../src/app.js'; const f = 'faq/shop.yaml';")).toEqual([]);
  });
});
