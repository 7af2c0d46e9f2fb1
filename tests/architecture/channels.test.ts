/**
 * A channel is one folder plus one line: outside its folder (src/channels/NAME/) and the registry
 * (src/channels/registry.ts), no source file names a channel — its name or aliases, as an
 * identifier or in a string — or one of its environment variables. Config, the composition root
 * and the conversation-test runner reach channels only through the registry.
 *
 * What counts: identifiers (split into words: `createTwitterChannel` names twitter), string and
 * template literals (split into words: `'webchat:private:'` names webchat) and regular
 * expressions. The exceptions, kept few:
 * - comments, which may give a platform as an example ("X weighs characters and links");
 * - words apart in prose: "web chat" in a sentence is not the name `webchat` (but `webChat`,
 *   `web_chat` and `web-chat` are);
 * - names of one or two letters (`x`) are too common as words to ban: they count only as a whole
 *   string or a string's `name:` prefix;
 * - `console`, the built-in terminal channel of `sportello chat`, shares its word with the operator
 *   console (src/console/, /console): its name is not checked, its variables (none) would be.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { CHANNELS } from '../../src/channels/catalog.js';
import type { AnyChannelDefinition } from '../../src/channels/definition.js';

const SRC = resolve(process.cwd(), 'src');
const REGISTRY = 'channels/registry.ts';
/** Channels whose name is an ordinary word of the product (see above): only their variables are checked. */
const COMMON_WORDS = new Set(['console']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.(ts|mts|js|mjs)$/.test(p) ? [p] : [];
  });
}

/**
 * The words of an identifier or a text, grouped by what whitespace separates:
 * `createBotFrameworkChannel` → [[create, bot, framework, channel]]; `web chat` → [[web], [chat]].
 */
function words(text: string): string[][] {
  return text
    .split(/\s+/)
    .map((chunk) =>
      chunk
        .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
        .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .filter(Boolean),
    )
    .filter((chunk) => chunk.length > 0);
}

/** Whether `term` (one or more words run together: botframework) is a run of whole words of one chunk. */
function hasRun(chunks: string[][], term: string): boolean {
  for (const list of chunks) {
    for (let i = 0; i < list.length; i++) {
      let joined = '';
      for (let j = i; j < list.length && joined.length < term.length; j++) {
        joined += list[j];
        if (joined === term) return true;
      }
    }
  }
  return false;
}

/** The identifiers and literal texts of a file: comments are not tokens. */
function tokens(file: string, text: string): Array<{ kind: 'identifier' | 'string'; text: string; line: number }> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('js') ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const out: Array<{ kind: 'identifier' | 'string'; text: string; line: number }> = [];
  const line = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) out.push({ kind: 'identifier', text: node.text, line: line(node) });
    else if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node) || ts.isRegularExpressionLiteral(node)) {
      out.push({ kind: 'string', text: node.text, line: line(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Everything that names `channel`: its name and aliases (words) and its variables (exact). */
function termsOf(channel: AnyChannelDefinition): { names: string[]; variables: string[] } {
  return {
    names: COMMON_WORDS.has(channel.name) ? [] : [channel.name, ...(channel.aliases ?? [])].map((n) => n.toLowerCase()),
    variables: Object.keys(channel.env.shape),
  };
}

/** Where `text` of `file` names a channel it should not: one line per finding. */
export function violations(file: string, text: string, channels: readonly AnyChannelDefinition[] = CHANNELS): string[] {
  const rel = relative(SRC, file);
  if (rel === REGISTRY) return [];
  const found: string[] = [];
  const toks = tokens(file, text);
  for (const channel of channels) {
    if (rel.startsWith(`channels/${channel.name}/`)) continue;
    const { names, variables } = termsOf(channel);
    for (const t of toks) {
      const list = words(t.text);
      for (const name of names) {
        const short = name.length <= 2;
        const hit = short
          ? t.kind === 'string' && (t.text.toLowerCase() === name || t.text.toLowerCase().startsWith(`${name}:`))
          : hasRun(list, name.replace(/[^a-z0-9]/g, ''));
        if (hit) found.push(`${rel}:${t.line}: ${t.kind} ${JSON.stringify(t.text)} names channel ${channel.name}`);
      }
      for (const variable of variables) {
        const hit = t.kind === 'identifier' ? t.text === variable : new RegExp(`(^|[^A-Za-z0-9_])${variable}($|[^A-Za-z0-9_])`).test(t.text);
        if (hit) found.push(`${rel}:${t.line}: ${t.kind} ${JSON.stringify(t.text)} names ${channel.name}'s variable ${variable}`);
      }
    }
  }
  return found;
}

describe('a channel is one folder plus one line', () => {
  const files = sourceFiles(SRC);

  it('reads the registry and the sources', () => {
    expect(CHANNELS.map((c) => c.name)).toEqual(expect.arrayContaining(['twitter', 'messenger', 'botframework', 'webchat', 'console']));
    expect(files.length).toBeGreaterThan(50);
    // Each channel has its folder, whose index.ts exports the definition the registry names.
    for (const channel of CHANNELS) expect(statSync(join(SRC, 'channels', channel.name, 'index.ts')).isFile()).toBe(true);
  });

  it('names no channel and no channel variable outside its folder and the registry', () => {
    const found = files.flatMap((f) => violations(f, readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  it('lists each channel on one line of the registry', () => {
    const registry = readFileSync(join(SRC, REGISTRY), 'utf8');
    for (const channel of CHANNELS) {
      const lines = registry.split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l) && l.includes(`./${channel.name}/`));
      expect(lines).toHaveLength(1);
    }
  });

  describe('catches a planted violation (the check can fail)', () => {
    const inCore = join(SRC, 'pipeline', 'planted.ts');
    const cases: Array<[string, string]> = [
      ['a channel name as a string', `if (msg.channel === 'twitter') reply();`],
      ['a channel name inside an identifier', `import { createMessengerChannel } from '../x.js';`],
      ['a run of words naming a channel', `const botFrameworkPath = '/api';`],
      ['a channel name inside a key', 'const key = `webchat:private:${session}`;'],
      ['an alias', `const platform = 'facebook';`],
      ['a short alias as a whole string', `const name = 'x';`],
      ['a short alias as a key prefix', `const key = 'x:cursor';`],
      ['an environment variable as a string', `const secret = process.env['MESSENGER_APP_SECRET'];`],
      ['an environment variable as an identifier', `const v = env.X_API_KEY;`],
      ['an environment variable inside a regular expression', `const re = /^X_POLL_SECONDS$/;`],
      ['an environment variable inside a template', 'const m = `${BOTFRAMEWORK_LOCAL_ONLY}`; const n = `set MicrosoftAppId first`;'],
    ];
    it.each(cases)('%s', (_what, code) => {
      expect(violations(inCore, code).length).toBeGreaterThan(0);
    });

    it('in any file outside the channel folder, even another channel’s', () => {
      expect(violations(join(SRC, 'channels', 'messenger', 'planted.ts'), `const a = 'twitter';`)).toHaveLength(1);
      expect(violations(join(SRC, 'channels', 'definition.ts'), `const a = 'webchat';`)).toHaveLength(1);
    });

    it('but not in the channel’s own folder, the registry, or a comment; nor ordinary words with a short name in them', () => {
      expect(violations(join(SRC, 'channels', 'twitter', 'planted.ts'), `const a = 'twitter'; const b = process.env.X_API_KEY;`)).toEqual([]);
      expect(violations(join(SRC, REGISTRY), `export { twitterChannel } from './twitter/index.js';`)).toEqual([]);
      expect(violations(inCore, `// X weighs characters; Messenger has windows\n/** Facebook comments */\nconst a = 1;`)).toEqual([]);
      expect(violations(inCore, `const f = (x: number) => x + 1; const u = new URL('/', 'http://x'); const h = 'x-csrf-token';`)).toEqual([]);
      expect(violations(inCore, `const help = 'the web chat is at /chat'; const dir = '../console/';`)).toEqual([]);
      expect(violations(inCore, `const a = 'web-chat'; const b = webChatPage;`)).toHaveLength(2);
    });
  });
});
