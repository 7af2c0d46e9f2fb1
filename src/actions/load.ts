/**
 * @module actions/load
 * Reads the actions folder (ACTIONS_DIR, default `actions/`) at start. Each file at its top
 * level (helpers go in a subfolder) is one of:
 *   - a module (`.js`, `.mjs`, `.cjs`; `.ts` where the runtime loads TypeScript) whose exports
 *     include actions made with `defineAction` (the default export, named exports, or a default
 *     array of them);
 *   - `NAME.yaml`: an HTTP action, `name` and `url` (+ `timeout_ms`, `connect_timeout_ms`,
 *     `retries`), signed with ACTIONS_SECRET.
 * Every problem of every file is reported at once (a ConfigError): a module that fails to load or
 * exports no action, a wrong YAML key, two actions of one name.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { displayPath, locateKey, locatePath } from '../corpus/load.js';
import { ACTION_NAME, actionSchema, type Action } from './define.js';
import type { HttpActionSpec } from './http.js';

/** What the actions folder declares. */
export interface LoadedActions {
  /** Actions written as modules, each with the file that exports it. */
  modules: Array<{ action: Action; file: string }>;
  /** HTTP actions, each with its file. */
  http: Array<{ spec: HttpActionSpec; file: string }>;
  /** Every action's name. */
  names: ReadonlySet<string>;
}

const MODULE = /\.(?:m?js|cjs|m?ts|cts)$/;
const YAML = /\.ya?ml$/;

/** An HTTP action file (`actions/order-status.yaml`). */
export const httpActionFileSchema = z.strictObject(
  {
    name: z.string({ error: 'name must be text' }).regex(ACTION_NAME, { error: 'name must be kebab-case (e.g. order-status)' }),
    url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// address' }),
    timeout_ms: z.number({ error: 'timeout_ms must be a number' }).int().min(100).max(60_000).optional(),
    connect_timeout_ms: z.number({ error: 'connect_timeout_ms must be a number' }).int().min(50).max(60_000).optional(),
    retries: z.number({ error: 'retries must be a number' }).int().min(0).max(10).optional(),
  },
  { error: 'an HTTP action file is a mapping with `name` and `url`' },
);

/** Loads the actions folder; a folder that does not exist declares no action. Throws ConfigError. */
export async function loadActions(dir: string): Promise<LoadedActions> {
  const problems: string[] = [];
  const modules: LoadedActions['modules'] = [];
  const http: LoadedActions['http'] = [];
  const where = new Map<string, string>();
  const claim = (name: string, file: string) => {
    const first = where.get(name);
    if (first) problems.push(`${file}: an action named "${name}" is already defined in ${first}`);
    else where.set(name, file);
    return !first;
  };

  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { modules, http, names: new Set() };
    throw new ConfigError([`ACTIONS_DIR: the actions folder ${displayPath(path.resolve(dir))} cannot be read (${code ?? String(err)})`]);
  }

  for (const name of names) {
    const absolute = path.resolve(dir, name);
    const file = displayPath(absolute);
    if (YAML.test(name)) {
      const spec = await readHttpAction(absolute, file, problems);
      if (spec && claim(spec.name, file)) http.push({ spec, file });
    } else if (MODULE.test(name)) {
      for (const action of await readModule(absolute, file, problems)) if (claim(action.name, file)) modules.push({ action, file });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { modules, http, names: new Set(where.keys()) };
}

async function readModule(absolute: string, file: string, problems: string[]): Promise<Action[]> {
  let exported: Record<string, unknown>;
  try {
    exported = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'ERR_UNKNOWN_FILE_EXTENSION' ? ': compile it to JavaScript (or run Sportello with a TypeScript loader such as tsx)' : '';
    problems.push(`${file}: the module cannot be loaded (${err instanceof Error ? err.message.split('\n')[0] : String(err)})${hint}`);
    return [];
  }
  const found: Action[] = [];
  const seen = new Set<unknown>();
  for (const [key, value] of Object.entries(exported)) {
    const candidates = key === 'default' && Array.isArray(value) ? value : [value];
    candidates.forEach((candidate, index) => {
      if (candidate === null || typeof candidate !== 'object' || !('handle' in candidate) || seen.has(candidate)) return;
      seen.add(candidate);
      const checked = actionSchema.safeParse(candidate);
      const label = candidates.length > 1 || Array.isArray(value) ? `export ${key}[${index}]` : `export ${key}`;
      if (!checked.success) {
        problems.push(`${file}: ${label}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        return;
      }
      found.push(candidate as Action);
    });
  }
  if (found.length === 0 && !problems.some((p) => p.startsWith(`${file}:`))) {
    problems.push(`${file}: exports no action (export default defineAction({ name, handle }); put helpers in a subfolder)`);
  }
  return found;
}

async function readHttpAction(absolute: string, file: string, problems: string[]): Promise<HttpActionSpec | undefined> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(await readFile(absolute, 'utf8'), { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const { line, col } = lineCounter.linePos(first.pos[0]);
    problems.push(`${file}:${line}:${col}: YAML syntax error: ${first.message.split('\n')[0]}`);
    return undefined;
  }
  const parsed = httpActionFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as Array<string | number>;
      const at = issue.code === 'unrecognized_keys' ? locateKey(doc, lineCounter, path, issue.keys[0]!) : locatePath(doc, lineCounter, path);
      const what = issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys.join('", "')}" (an HTTP action has name, url, timeout_ms, connect_timeout_ms, retries)` : issue.message;
      problems.push(`${file}:${at.line}:${at.col}: ${what}`);
    }
    return undefined;
  }
  const p = parsed.data;
  return { name: p.name, url: p.url, timeoutMs: p.timeout_ms, connectTimeoutMs: p.connect_timeout_ms, retries: p.retries };
}
