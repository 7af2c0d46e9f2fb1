/**
 * A project's module, sportello.config.js: its channels and default settings are read; a file
 * that is not one is refused with every problem named; a folder without it is read as before.
 * (The example project's package test runs `sportello start` and `sportello test` with one.)
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { applyProjectEnv, loadProject } from '../../src/config/project.js';

/** A channel definition as defineChannel makes it, written without importing Sportello (duck-typed). */
const CHANNEL = `{
  name: 'kiosk', title: 'Kiosk',
  env: { shape: { KIOSK_KEY: {} }, safeParse: () => ({ success: true, data: {} }) },
  settings: () => ({ on: false }),
  capabilities: { publicReplies: false, privateMessages: true, maxLength: { public: 100, private: 100 }, measure: (t) => t.length, quickReplies: 0, signsPublicReplies: false, maxThread: 1 },
  create: () => { throw new Error('not built here'); },
}`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sportello-project-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('sportello.config.js', () => {
  it('is optional: a folder without it has no channels and no settings of its own', async () => {
    expect(await loadProject(dir)).toEqual({ channels: [], env: {} });
  });

  it('gives its channels, and settings that the environment overrides', async () => {
    writeFileSync(join(dir, 'sportello.config.js'), `export default { channels: [${CHANNEL}], env: { BRAND_NAME: 'Acme', DEFAULT_LOCALE: 'en' } };`);
    const project = await loadProject(dir);
    expect(project.file).toBe('sportello.config.js');
    expect(project.channels.map((c) => c.name)).toEqual(['kiosk']);
    const env: Record<string, string | undefined> = { DEFAULT_LOCALE: 'it' };
    applyProjectEnv(project, env);
    expect(env).toEqual({ BRAND_NAME: 'Acme', DEFAULT_LOCALE: 'it' });
  });

  it('may be an .mjs file', async () => {
    writeFileSync(join(dir, 'sportello.config.mjs'), `export default { env: { BRAND_NAME: 'Acme' } };`);
    expect((await loadProject(dir)).env).toEqual({ BRAND_NAME: 'Acme' });
  });

  it('refuses what is not a project, naming every problem', async () => {
    writeFileSync(join(dir, 'sportello.config.js'), `export default { chanels: [], channels: [{ name: 'Bad Name' }], env: { PORT: 8080, 'not a name': 'x' } };`);
    const err = await loadProject(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/sportello\.config\.js: unknown key "chanels" \(known: channels, env\)/);
    expect(problems).toMatch(/channels\[0\] is not a channel made with defineChannel: name: lower-case letters/);
    expect(problems).toMatch(/env\.PORT must be text/);
    expect(problems).toMatch(/env: "not a name" is not a variable name/);
  });

  it('reports a module that throws, and a default export that is not an object', async () => {
    writeFileSync(join(dir, 'sportello.config.js'), `throw new Error('SMS_KEYS is not set');`);
    await expect(loadProject(dir)).rejects.toThrow(/sportello\.config\.js: could not be loaded: SMS_KEYS is not set$/m);
    writeFileSync(join(dir, 'sportello.config.mjs'), `export default [];`);
    rmSync(join(dir, 'sportello.config.js'));
    await expect(loadProject(dir)).rejects.toThrow(/its default export is an object/);
  });
});
