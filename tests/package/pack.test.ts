/**
 * Sportello as a package: `npm pack` the project, install the tarball in an empty folder (as a
 * brand would, its dependencies from the registry or, when it has them, npm's cache), then from
 * there: plain JavaScript imports the public API, starts a server with a channel written with
 * `defineChannel`, and gets an answer over HTTP; TypeScript (tsc) resolves the API's types and
 * refuses a wrong use of them; the `sportello` command runs.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/app.js';
import { exec, installTarball, packSportello } from './helpers.js';

const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** A brand's server in plain JavaScript: its own channel, started, asked a question through its webhook. */
const APP_JS = `
import { createSportello, defineChannel, allOrNone, z } from 'sportello';

const sent = [];
const kiosk = defineChannel({
  name: 'kiosk',
  title: 'Kiosk',
  env: z.object({ KIOSK_KEY: z.string().optional() }),
  settings: (e) => allOrNone('kiosk', e, ['KIOSK_KEY'], () => ({ key: e.KIOSK_KEY })),
  capabilities: { publicReplies: false, privateMessages: true, maxLength: { public: 500, private: 500 }, measure: (t) => t.length, quickReplies: 0, signsPublicReplies: false, maxThread: 1 },
  create: (settings) => ({
    name: 'kiosk',
    capabilities: { publicReplies: false, privateMessages: true, maxLength: { public: 500, private: 500 }, measure: (t) => t.length, quickReplies: 0, signsPublicReplies: false, maxThread: 1 },
    verify: async (req) => req.headers['x-kiosk-key'] === settings.key,
    parse: async (req) => {
      const body = JSON.parse(req.rawBody.toString('utf8'));
      return [{ channel: 'kiosk', id: body.id, visibility: 'private', customer: { platformId: 'visitor-1' }, text: body.text, sentAt: new Date().toISOString() }];
    },
    send: async (item) => {
      sent.push(item.reply.text);
      return { platformId: 'k' + sent.length };
    },
  }),
});

const sportello = await createSportello({
  env: { ...process.env, KIOSK_KEY: 'k-secret', SPORTELLO_DATA: 'data/store.json', FAQ_WATCH: 'false', LOG_LEVEL: 'silent' },
  channels: [kiosk],
});
const url = await sportello.listen(0, '127.0.0.1');
const health = await fetch(url + '/healthz').then((r) => r.json());
const posted = await fetch(url + '/webhooks/kiosk', {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-kiosk-key': 'k-secret' },
  body: JSON.stringify({ id: 'm1', text: 'quali sono i vostri orari?' }),
});
while (sent.length === 0) await new Promise((r) => setTimeout(r, 20));
await sportello.close();
console.log(JSON.stringify({ health, status: posted.status, answer: sent[0] }));
`;

/** TypeScript that uses the API's types as a brand would. */
const GOOD_TS = `
import { createSportello, defineChannel, allOrNone, runConversationTests, z, type ChannelAdapter, type Sportello, type Store, type TestReport } from 'sportello';

const adapter: ChannelAdapter = {
  name: 'kiosk',
  capabilities: { publicReplies: false, privateMessages: true, maxLength: { public: 500, private: 500 }, measure: (t) => t.length, quickReplies: 0, signsPublicReplies: false, maxThread: 1 },
  verify: async () => true,
  parse: async () => [],
  send: async (item) => ({ platformId: item.id }),
};
export const kiosk = defineChannel({
  name: 'kiosk',
  title: 'Kiosk',
  env: z.object({ KIOSK_KEY: z.string().optional() }),
  settings: (e) => allOrNone('kiosk', e, ['KIOSK_KEY'], () => ({ key: e.KIOSK_KEY! })),
  capabilities: adapter.capabilities,
  create: (settings) => ({ ...adapter, name: settings.key.length > 0 ? 'kiosk' : 'kiosk' }),
});
export async function run(): Promise<string> {
  const sportello: Sportello = await createSportello({ channels: [kiosk] });
  const store: Store = sportello.store;
  const operators = await store.directory.listOperators();
  const report: TestReport = await runConversationTests(['tests/conversations']);
  const url: string = await sportello.listen(0);
  await sportello.close();
  return url + operators.length + report.passed;
}
`;

/** The same API used wrongly: tsc must refuse it (the types are real, not \`any\`). */
const BAD_TS = `
import { createSportello, defineChannel } from 'sportello';
export const wrongName = defineChannel({ name: 42 });
export const wrongOption = createSportello({ port: 'eighty' });
`;

describe('the packed package', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-pack-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs from its tarball into an empty folder, and works from JavaScript, TypeScript and the command line', async () => {
    const { filename, files } = await packSportello(dir);
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/sportello.js', 'dist/index.js', 'dist/index.d.ts', 'dist/console/index.html', 'dist/channels/webchat/page.html', 'dist/storage/postgres/sql/schema.sql', 'dist/classifier/understanding-worker.js']));
    expect(paths.filter((p) => p.startsWith('src/') || p.startsWith('tests/') || p.endsWith('.mjs'))).toEqual([]);

    const project = join(dir, 'brand');
    cpSync(join(ROOT, 'faq'), join(project, 'faq'), { recursive: true });
    cpSync(join(ROOT, 'intents'), join(project, 'intents'), { recursive: true });
    cpSync(join(ROOT, 'tests/conversations/20-store-hours-console-en.yaml'), join(project, 'tests/conversations/hours.yaml'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'brand', private: true, type: 'module' }));
    // Its dependencies from npm's cache when it has them (a machine that ran `npm install` here), else the registry.
    const installed = await installTarball(project, join(dir, filename));
    expect({ code: installed.code, stderr: installed.stderr.slice(-2000) }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(JSON.parse(readFileSync(join(project, 'node_modules/sportello/package.json'), 'utf8')).version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);

    // Plain JavaScript: the public API, a server, an answer.
    writeFileSync(join(project, 'app.mjs'), APP_JS);
    const app = await exec(process.execPath, ['app.mjs'], project);
    expect({ code: app.code, stderr: app.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const result = JSON.parse(app.stdout.trim().split('\n').at(-1)!) as { health: unknown; status: number; answer: string };
    expect(result.health).toEqual({ status: 'ok' });
    expect(result.status).toBe(200);
    expect(result.answer).toMatch(/luned[iì] al venerd[iì]/i);

    // TypeScript: the types resolve through package.json's exports, and a wrong use is refused.
    const tsconfig = { compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: [], typeRoots: [join(ROOT, 'node_modules/@types')] } };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['good.ts'] }));
    writeFileSync(join(project, 'tsconfig.bad.json'), JSON.stringify({ ...tsconfig, files: ['bad.ts'] }));
    writeFileSync(join(project, 'good.ts'), GOOD_TS);
    writeFileSync(join(project, 'bad.ts'), BAD_TS);
    const good = await exec(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
    expect({ code: good.code, out: good.stdout }).toEqual({ code: 0, out: '' });
    const bad = await exec(process.execPath, [TSC, '-p', 'tsconfig.bad.json'], project);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/bad\.ts\(3,\d+\): error TS2322/);
    expect(bad.stdout).toMatch(/bad\.ts\(4,\d+\): error TS2353/);

    // The command: its version, and the brand's conversation tests on the brand's FAQ.
    const bin = join(project, 'node_modules/.bin/sportello');
    const version = await exec(bin, ['--version'], project);
    expect(version.stdout).toMatch(/^sportello \d+\.\d+\.\d+/);
    const tests = await exec(bin, ['test'], project);
    expect(tests.stdout).toMatch(/^1 passed, 0 failed$/m);
    expect(tests.code).toBe(0);
  }, 900_000);
});
