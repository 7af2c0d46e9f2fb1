/**
 * The actions folder: module actions (defineAction exports), HTTP actions (NAME.yaml), and every
 * problem reported at once; `createActions` needs ACTIONS_SECRET for HTTP actions.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActions, defineAction, loadActions } from '../../src/actions/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { newSecret } from '../fakes/action-receiver.js';

const input = { handler: 'a', faq: 'x', language: 'en', channel: 'chat', visibility: 'private', data: {} } as const;

describe('the actions folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-actions-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const problemsOf = async (promise: Promise<unknown>): Promise<string[]> => {
    try {
      await promise;
    } catch (err) {
      if (err instanceof ConfigError) return [...err.problems];
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  it('loads default, named and array exports of modules, and HTTP actions from YAML; helpers in subfolders are not loaded', async () => {
    write('order-status.mjs', "export default { name: 'order-status', timeoutMs: 2000, handle: () => ({ reply: 'ok' }) };\nexport const LIMIT = 3;\n");
    write('stock.mjs', "const a = { name: 'stock-check', handle: () => ({ reply: 'yes' }) };\nconst b = { name: 'store-stock', handle: () => ({ handoff: true }) };\nexport default [a, b];\nexport const again = a;\n");
    write('loyalty.yaml', 'name: loyalty-points\nurl: https://crm.example.com/sportello/points\ntimeout_ms: 3000\nretries: 1\n');
    write('README.md', 'not an action');
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'client.mjs'), 'throw new Error("helpers are not loaded");\n');
    const loaded = await loadActions(dir);
    expect([...loaded.names].sort()).toEqual(['loyalty-points', 'order-status', 'stock-check', 'store-stock']);
    expect(loaded.modules.map((m) => m.action.name)).toEqual(['order-status', 'stock-check', 'store-stock']);
    expect(loaded.modules[0]!.action.timeoutMs).toBe(2000);
    expect(loaded.http).toEqual([
      { spec: { name: 'loyalty-points', url: 'https://crm.example.com/sportello/points', timeoutMs: 3000, connectTimeoutMs: undefined, retries: 1 }, file: expect.stringMatching(/loyalty\.yaml$/) },
    ]);
  });

  it('declares nothing when the folder does not exist', async () => {
    const loaded = await loadActions(join(dir, 'missing'));
    expect(loaded.names.size).toBe(0);
  });

  it('reports every problem at once: a module that breaks, one without an action, a wrong action, a YAML typo, a name used twice', async () => {
    write('broken.mjs', 'export default {{;\n');
    write('helper.mjs', 'export const add = (a, b) => a + b;\n');
    write('wrong.mjs', "export default { name: 'Order Status', handle: 'not a function' };\n");
    write('one.mjs', "export default { name: 'dup', handle: () => ({ reply: 'a' }) };\n");
    write('two.yaml', 'name: dup\nurl: https://example.com/a\n');
    write('typo.yaml', 'name: typo\nurl: https://example.com/a\nretrys: 2\n');
    write('plain.yaml', 'name: plain\nurl: ftp://example.com/a\n');
    const problems = await problemsOf(loadActions(dir));
    expect(problems).toEqual([
      expect.stringMatching(/broken\.mjs: the module cannot be loaded/),
      expect.stringMatching(/helper\.mjs: exports no action \(export default defineAction/),
      expect.stringMatching(/plain\.yaml:2:6: url must be an http:\/\/ or https:\/\/ address/),
      expect.stringMatching(/two\.yaml: an action named "dup" is already defined in .*one\.mjs/),
      expect.stringMatching(/typo\.yaml:3:1: unknown key "retrys"/),
      expect.stringMatching(/wrong\.mjs: export default: name: name must be kebab-case.*handle: handle must be a function/),
    ]);
  });

  it('defineAction checks the action when it is written', () => {
    expect(() => defineAction({ name: 'Order_Status', handle: () => ({ reply: 'x' }) })).toThrow(/name must be kebab-case/);
    const action = defineAction({ name: 'order-status', handle: () => ({ reply: 'x' }) });
    expect(action.name).toBe('order-status');
    expect(Object.isFrozen(action)).toBe(true);
  });

  it('stops createActions when an HTTP action has no ACTIONS_SECRET, unless an action in code replaces it', async () => {
    write('orders.yaml', 'name: order-status\nurl: https://shop.example.com/orders\n');
    const problems = await problemsOf(createActions({ dir, secrets: [], logger: createSilentLogger() }));
    expect(problems).toEqual([expect.stringMatching(/orders\.yaml: the HTTP action "order-status" is signed with ACTIONS_SECRET, which is not set/)]);
    const stubbed = await createActions({ dir, secrets: [], logger: createSilentLogger(), extra: [defineAction({ name: 'order-status', handle: () => ({ reply: 'stub' }) })] });
    expect(await stubbed.call({ ...input, handler: 'order-status' })).toEqual({ kind: 'reply', text: 'stub', quickReplies: [] });
    const signed = await createActions({ dir, secrets: [newSecret()], logger: createSilentLogger() });
    expect([...signed.names]).toEqual(['order-status']);
  });

  it('a runner call of a module action gets a copy of the input and its checked result; an unknown name is a failure', async () => {
    write('a.mjs', "export default { name: 'a', handle(input) { input.data.order_number = 'changed'; return { reply: `hi ${input.language}`, quickReplies: ['Yes', 'No'] }; } };\n");
    const runner = await createActions({ dir, secrets: [], logger: createSilentLogger() });
    const given = { ...input, data: {} };
    expect(await runner.call(given)).toEqual({ kind: 'reply', text: 'hi en', quickReplies: [{ title: 'Yes', payload: 'Yes' }, { title: 'No', payload: 'No' }] });
    expect(given.data).toEqual({});
    expect(await runner.call({ ...input, handler: 'nope' })).toEqual({ kind: 'failed', error: 'no action named nope' });
  });
});
