/** Test helpers for the corpus tests: temporary corpus folders. */
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The project's sample corpus. */
export const SAMPLE_FAQ = resolve('faq');
export const SAMPLE_INTENTS = resolve('intents');

/** A temporary folder with `faq/` and `intents/`, filled from `files` (paths relative to it) or copied from the sample. */
export function tempCorpus(files?: Record<string, string>): { root: string; faqDir: string; intentsDir: string; write(rel: string, text: string): void; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'sportello-corpus-'));
  const faqDir = join(root, 'faq');
  const intentsDir = join(root, 'intents');
  const write = (rel: string, text: string) => {
    const file = join(root, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  if (files) {
    mkdirSync(faqDir, { recursive: true });
    mkdirSync(intentsDir, { recursive: true });
    for (const [rel, text] of Object.entries(files)) write(rel, text);
  } else {
    cpSync(SAMPLE_FAQ, faqDir, { recursive: true });
    cpSync(SAMPLE_INTENTS, intentsDir, { recursive: true });
  }
  return { root, faqDir, intentsDir, write, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
