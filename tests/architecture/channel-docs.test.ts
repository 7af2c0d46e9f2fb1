/**
 * The documentation of the variables cannot drift from the schemas: `.env.example` lists exactly
 * the variables Sportello reads (core and every channel of the registry), each channel's together
 * and with its default; each channel's guide and the README name every variable of the channel.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CHANNELS } from '../../src/channels/catalog.js';
import { envSchema } from '../../src/config/config.js';

const ROOT = resolve(process.cwd());
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** `NAME=value  # comment` lines of an env file, in order (commented-out ones too). */
function envLines(text: string): Array<{ name: string; value: string }> {
  return [...text.matchAll(/^#?\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)].map((m) => ({
    name: m[1]!,
    value: m[2]!.replace(/\s+#.*$/, '').trim(),
  }));
}

/** Every way the docs disagree with the schemas, one line each. */
function docProblems(docs: { example: string; readme: string; guide(file: string): string }): string[] {
  const problems: string[] = [];
  const example = envLines(docs.example);
  const listed = example.map((l) => l.name);
  const known = new Set([...Object.keys(envSchema.shape), ...CHANNELS.flatMap((c) => Object.keys(c.env.shape))]);
  for (const name of known) if (!listed.includes(name)) problems.push(`.env.example: ${name} is missing`);
  for (const name of listed) if (!known.has(name)) problems.push(`.env.example: ${name} is read by nothing`);
  for (const name of new Set(listed)) if (listed.indexOf(name) !== listed.lastIndexOf(name)) problems.push(`.env.example: ${name} twice`);
  for (const channel of CHANNELS) {
    const names = Object.keys(channel.env.shape);
    const positions = names.map((n) => listed.indexOf(n)).filter((p) => p >= 0).sort((a, b) => a - b);
    if (positions.length > 0 && positions.at(-1)! - positions[0]! + 1 !== positions.length) {
      problems.push(`.env.example: the variables of ${channel.name} are not together`);
    }
    for (const { name, value } of example.filter((l) => names.includes(l.name) && l.value !== '')) {
      const field = channel.env.shape[name] as { safeParse(v: unknown): { success: boolean; data?: unknown } };
      const shown = field.safeParse(value);
      const fallback = field.safeParse(undefined);
      if (!shown.success || JSON.stringify(shown.data) !== JSON.stringify(fallback.data)) {
        problems.push(`.env.example: ${name}=${value} is not its default (${JSON.stringify(fallback.data)})`);
      }
    }
    const guide = channel.docs ? docs.guide(channel.docs) : undefined;
    for (const name of names) {
      if (!docs.readme.includes(name)) problems.push(`README.md does not name ${name}`);
      if (guide !== undefined && !guide.includes(name)) problems.push(`${channel.docs} does not name ${name}`);
    }
  }
  return problems;
}

describe('the variables are documented as the schemas say', () => {
  const docs = { example: read('.env.example'), readme: read('README.md'), guide: read };

  it('.env.example lists every variable of core and of every channel, each channel’s together with its defaults; guides and README name them', () => {
    expect(docProblems(docs)).toEqual([]);
  });

  describe('notices drift (the check can fail)', () => {
    it.each([
      ['a variable left out of .env.example', { ...docs, example: docs.example.replace(/^MESSENGER_PAGE_ID=.*$/m, '') }, /MESSENGER_PAGE_ID is missing/],
      ['a variable nothing reads', { ...docs, example: `${docs.example}\nX_API_KEYS=\n` }, /X_API_KEYS is read by nothing/],
      ['a wrong default', { ...docs, example: docs.example.replace(/^X_POLL_SECONDS=0/m, 'X_POLL_SECONDS=30') }, /X_POLL_SECONDS=30 is not its default/],
      ['a channel’s variables apart', { ...docs, example: docs.example.replace(/^(MESSENGER_HANDOVER=.*)$/m, '').replace(/^PORT=/m, 'MESSENGER_HANDOVER=false\nPORT=') }, /messenger are not together/],
      ['a variable the README does not name', { ...docs, readme: docs.readme.split('MicrosoftAppTenantId').join('TENANT') }, /README.md does not name MicrosoftAppTenantId/],
      ['a variable the guide does not name', { ...docs, guide: (f: string) => read(f).split('X_BRAND_HANDLE').join('HANDLE') }, /docs\/twitter.md does not name X_BRAND_HANDLE/],
    ])('%s', (_what, planted, expected) => {
      expect(docProblems(planted).join('\n')).toMatch(expected);
    });
  });
});
