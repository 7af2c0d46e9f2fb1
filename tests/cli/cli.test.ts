import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, cpSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/app.js';

const BIN = join(ROOT, 'bin/sportello.js');

function run(args: string[], options: { input?: string; env?: Record<string, string>; cwd?: string } = {}) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'silent', FAQ_WATCH: 'false', ...options.env },
    timeout: 60_000,
  });
}

describe('the sportello command', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers an Italian question piped into `sportello chat`, in Italian', () => {
    const result = run(['chat'], { input: 'quali sono i vostri orari?\n' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/luned[iì]|sabato/i);
  });

  it('shows the decision after each turn with --explain', () => {
    const result = run(['chat', '--explain'], { input: 'what are your opening hours?\n' });
    expect(result.stdout).toMatch(/\[answer opening-hours [01]\.\d\d en\]/);
  });

  it('stops `sportello start` on a wrong environment value, naming the variable', () => {
    const result = run(['start'], { env: { PORT: 'not-a-port', TIMEZONE: 'Nowhere/City' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/PORT: /);
    expect(result.stderr).toMatch(/TIMEZONE: /);
  });

  it('reports a broken FAQ file as file:line:column with a non-zero exit from `faq lint`', () => {
    const faq = join(dir, 'faq');
    mkdirSync(faq, { recursive: true });
    cpSync(join(ROOT, 'intents'), join(dir, 'intents'), { recursive: true });
    writeFileSync(join(faq, 'broken.yaml'), 'locale: it\nentries:\n  - id: orari\n    questions: [Orari?]\n    answr: typo here\n');
    const result = run(['faq', 'lint'], { env: { FAQ_DIR: faq, INTENTS_DIR: join(dir, 'intents') } });
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/broken\.yaml:\d+:\d+: /);
  });

  it('passes `faq lint` on the sample corpus', () => {
    const result = run(['faq', 'lint']);
    expect(result.status).toBe(0);
  });

  it('serves /healthz after `sportello start`, answers in /chat, and exits 0 on SIGTERM', async () => {
    const port = 40000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [BIN, 'start'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', SPORTELLO_DATA: join(dir, 'start.json'), LOG_LEVEL: 'silent', FAQ_WATCH: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = Date.now();
    const base = `http://127.0.0.1:${port}`;
    try {
      let health: { status: string } | undefined;
      // Starting takes ~5 s alone on a 2-core machine (modules, models); the whole suite runs beside it.
      while (Date.now() - started < 60_000 && !health) {
        try {
          const res = await fetch(`${base}/healthz`);
          if (res.status === 200) health = (await res.json()) as { status: string };
        } catch {
          // not listening yet
        }
        if (!health) await new Promise((r) => setTimeout(r, 100));
      }
      expect(health).toEqual({ status: 'ok' });
      const page = await fetch(`${base}/chat`);
      expect(await page.text()).toMatch(/<html/);

      const { session } = (await (await fetch(`${base}/chat/api/sessions`, { method: 'POST' })).json()) as { session: string };
      const controller = new AbortController();
      const events = await fetch(`${base}/chat/api/events?session=${session}`, { signal: controller.signal });
      const reader = events.body!.getReader();
      const posted = await fetch(`${base}/chat/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session, text: 'what are your opening hours?' }),
      });
      expect(posted.status).toBe(202);
      let received = '';
      const deadline = Date.now() + 5000;
      while (!received.includes('event: reply') && Date.now() < deadline) {
        const { value } = await reader.read();
        received += new TextDecoder().decode(value);
      }
      controller.abort();
      expect(received).toMatch(/Monday to Friday/);
      await new Promise((r) => setTimeout(r, 100));
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);
});

describe('the command line conventions', () => {
  const STACK = /\n\s+at .+:\d+:\d+\)?\n/;

  it('prints the version of package.json with --version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = run(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`sportello ${version}\n`);
  });

  it('prints a usage on --help for every command, and exits 0', () => {
    for (const args of [['start'], ['chat'], ['test'], ['faq', 'lint'], ['faq', 'review'], ['eval'], ['operator'], ['operator', 'add'], ['migrate'], ['export'], ['import']]) {
      const result = run([...args, '--help']);
      expect({ args, status: result.status }).toEqual({ args, status: 0 });
      expect(result.stdout).toMatch(new RegExp(`usage: sportello ${args[0]}`, 'i'));
    }
  });

  it('refuses an unknown option with exit 2, what is wrong and the usage, and no stack trace', () => {
    for (const args of [['start', '--port', '80'], ['chat', '--verbose'], ['test', '--watch'], ['faq', 'lint', '--fix'], ['eval', '--fast'], ['migrate', '--all']]) {
      const result = run(args);
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr).toMatch(new RegExp(`^sportello ${args[0]}`));
      expect(result.stderr).toMatch(/unknown option|unexpected argument/i);
      expect(result.stderr).not.toMatch(STACK);
    }
  });

  it('reports a path that is not there with exit 1 and no stack trace', () => {
    const result = run(['test', 'no/such/folder']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^sportello test: .*no\/such\/folder: no such file or folder\n$/);
    const imported = run(['import', join(tmpdir(), 'no-such-export.json')], { env: { SPORTELLO_DATA: join(tmpdir(), `sportello-cli-${process.pid}.json`) } });
    expect(imported.status).toBe(1);
    expect(imported.stderr).toMatch(/no-such-export\.json/);
    expect(imported.stderr).not.toMatch(STACK);
  });

  it('reports a FAQ file that is not YAML as file:line:column with exit 1 and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sportello-cli-yaml-'));
    try {
      mkdirSync(join(dir, 'faq'));
      cpSync(join(ROOT, 'intents'), join(dir, 'intents'), { recursive: true });
      writeFileSync(join(dir, 'faq', 'bad.yaml'), 'locale: it\nentries:\n  - id: orari\n    questions: [Orari?\n');
      const result = run(['chat'], { input: 'ciao\n', env: { FAQ_DIR: join(dir, 'faq'), INTENTS_DIR: join(dir, 'intents') } });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/bad\.yaml:\d+:\d+/);
      expect(result.stderr).not.toMatch(STACK);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
