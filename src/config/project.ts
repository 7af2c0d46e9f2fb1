/**
 * @module config/project
 * A brand's project module: `sportello.config.js` (or `.mjs`) in the folder a command runs in,
 * beside `faq/`, `intents/` and `actions/`. `sportello start`, `sportello test` and `sportello chat`
 * read it, so a project's own channels run without a start script of its own:
 *
 * ```js
 * // sportello.config.js
 * import { smsChannel } from './channels/sms.js';
 * export default {
 *   channels: [smsChannel],                          // defineChannel: on when their variables are set
 *   env: { BRAND_NAME: 'Acme Caffè', DEFAULT_LOCALE: 'it' },   // default settings (not secrets)
 * };
 * ```
 *
 * `env` gives settings their project default: a variable of the environment (or of `.env`) wins.
 * A project without the file is read as before; a file that fails to load, or holds anything
 * else, stops the command with a message naming the file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { channelDefinitionProblems, type AnyChannelDefinition } from '../channels/catalog.js';
import { ConfigError } from '../core/errors.js';

/** What `sportello.config.js` exports (its default export). */
export interface ProjectConfig {
  /** The project's own channels (`defineChannel`), read from the environment like the built-in ones. */
  channels?: readonly AnyChannelDefinition[];
  /** Default values of settings (names as in .env.example); the environment and `.env` win. */
  env?: Readonly<Record<string, string>>;
}

/** The names the project module may have, in the order they are looked for. */
export const PROJECT_FILES = ['sportello.config.js', 'sportello.config.mjs'] as const;

/** A project as read: its module's file (none: there is none), channels and default settings. */
export interface Project {
  file?: string;
  channels: AnyChannelDefinition[];
  env: Record<string, string>;
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads the project module of `dir` (default: the current folder). Throws ConfigError. */
export async function loadProject(dir: string = process.cwd()): Promise<Project> {
  const name = PROJECT_FILES.find((f) => existsSync(join(dir, f)));
  if (!name) return { channels: [], env: {} };
  let exported: unknown;
  try {
    exported = ((await import(pathToFileURL(join(dir, name)).href)) as { default?: unknown }).default;
  } catch (err) {
    throw new ConfigError([`${name}: could not be loaded: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`]);
  }
  const problems: string[] = [];
  if (!exported || typeof exported !== 'object' || Array.isArray(exported)) {
    throw new ConfigError([`${name}: its default export is an object, e.g. export default { channels: [smsChannel] }`]);
  }
  const project = exported as Record<string, unknown>;
  for (const key of Object.keys(project)) if (key !== 'channels' && key !== 'env') problems.push(`${name}: unknown key "${key}" (known: channels, env)`);
  const channels: AnyChannelDefinition[] = [];
  if (project.channels !== undefined) {
    if (!Array.isArray(project.channels)) problems.push(`${name}: channels is a list of channels made with defineChannel`);
    else
      project.channels.forEach((channel: unknown, i) => {
        const wrong = channelDefinitionProblems(channel);
        if (wrong.length > 0) problems.push(`${name}: channels[${i}] is not a channel made with defineChannel: ${wrong.join('; ')}`);
        else channels.push(channel as AnyChannelDefinition);
      });
  }
  const env: Record<string, string> = {};
  if (project.env !== undefined) {
    if (!project.env || typeof project.env !== 'object' || Array.isArray(project.env)) problems.push(`${name}: env maps variable names to text values`);
    else
      for (const [variable, value] of Object.entries(project.env)) {
        if (!VARIABLE.test(variable)) problems.push(`${name}: env: ${JSON.stringify(variable)} is not a variable name`);
        else if (typeof value !== 'string') problems.push(`${name}: env.${variable} must be text (write numbers and booleans in quotes)`);
        else env[variable] = value;
      }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { file: name, channels, env };
}

/** Adds the project's default settings to `target` where it has none (as `.env` does). */
export function applyProjectEnv(project: Project, target: Record<string, string | undefined> = process.env): void {
  for (const [variable, value] of Object.entries(project.env)) if (target[variable] === undefined) target[variable] = value;
}
