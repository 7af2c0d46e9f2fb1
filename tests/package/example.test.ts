/**
 * The example brand project (examples/acme-shop) against the packed package: Sportello is packed,
 * the example is copied into an empty temporary folder and installs Sportello from the tarball (as
 * its README says), then its own tests run there (`npm test`: its conversation tests through the
 * public runner with its SMS channel and a fake order service, the action's unit tests, the SMS
 * channel end to end against its fake gateway). `sportello start` in the project serves the
 * project's channel (sportello.config.js). And the example's tests can fail: a wrong expected reply
 * fails `npm test`, naming the file and the turn.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/app.js';
import { exec, installTarball, packSportello } from './helpers.js';

describe('the example brand project (examples/acme-shop)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-example-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs Sportello from the packed tarball, passes its own tests, serves its channel, and fails a wrong expectation', async () => {
    const { filename } = await packSportello(dir);
    const project = join(dir, 'acme-shop');
    cpSync(join(ROOT, 'examples/acme-shop'), project, { recursive: true, filter: (source) => !/[/\\](?:node_modules|data)$/.test(source) });
    const installed = await installTarball(project, join(dir, filename));
    expect({ code: installed.code, stderr: installed.stderr.slice(-2000) }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(JSON.parse(readFileSync(join(project, 'node_modules/sportello/package.json'), 'utf8')).version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);

    // Its own tests, as its README runs them.
    const passing = await exec('npm', ['test'], project);
    expect({ code: passing.code, stderr: passing.stderr.slice(-2000), out: passing.stdout.slice(-4000) }).toEqual({ code: 0, stderr: expect.any(String), out: expect.stringMatching(/^# fail 0$/m) });
    expect(passing.stdout).toMatch(/^# pass 10$/m);
    expect(passing.stdout).toMatch(/5 passed, 0 failed/);

    // `sportello start` in the project: its SMS channel (from sportello.config.js) next to the web chat, webhook signatures checked.
    const server = spawn(join(project, 'node_modules/.bin/sportello'), ['start'], {
      cwd: project,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PORT: '0',
        HOST: '127.0.0.1',
        SPORTELLO_DATA: join(dir, 'data/store.json'),
        LOG_LEVEL: 'silent',
        SMS_API_KEY: 'sk-test-12345678',
        SMS_WEBHOOK_SECRET: 'whsec-test-0123456789abcdef',
        SMS_SENDER: 'AcmeCaffe',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    server.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    const ready = await new Promise<string>((resolve, reject) => {
      server.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const line = /Sportello is listening on (\S+) .*\n/.exec(out);
        if (line) resolve(line[0]);
      });
      void exited.then((code) => reject(new Error(`sportello start exited ${code}: ${err}`)));
    });
    try {
      expect(ready).toMatch(/\(channels: webchat, sms\)/);
      const base = /listening on (\S+)/.exec(ready)![1]!;
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const unsigned = await fetch(`${base}/webhooks/sms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'in_1', from: '+393330000001', text: 'ciao' }) });
      expect(unsigned.status).toBe(401);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    // A wrong expectation fails the example's tests.
    const test = join(project, 'tests/conversations/stato-ordine-sms.yaml');
    writeFileSync(test, readFileSync(test, 'utf8').replace('arriva giovedì 10 dicembre', 'arriva venerdì 11 dicembre'));
    const failing = await exec('npm', ['test'], project);
    expect(failing.code).not.toBe(0);
    expect(failing.stdout).toMatch(/FAIL tests\/conversations\/stato-ordine-sms\.yaml turn 2: expected a reply matching \/in viaggio con BRT: arriva venerdì 11 dicembre\/i, got "Il tuo ordine è in viaggio con BRT: arriva giovedì 10 dicembre\."/);
    expect(failing.stdout).toMatch(/4 passed, 1 failed/);
  }, 900_000);
});
