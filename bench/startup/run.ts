/**
 * `npm run bench:startup`: how long from `node …` to a healthy `/healthz` (200), for
 *   - a bare restify server with one route (the floor: Node + restify),
 *   - `npm start`'s command, `node bin/sportello.js start` (the compiled dist/, default settings:
 *     web chat on, the embedded store in a fresh file), twice: a first start, which trains the
 *     sample FAQ (a fresh data folder, so no model cache), and a restart with the same FAQ, which
 *     reads the trained model from data/models/ (the data folder kept from round to round, after
 *     one start that is not measured writes the model; the store is a fresh file each time),
 *   - the same from the TypeScript sources through tsx (how `npm start` ran before dist/),
 * in interleaved rounds of one run, so a busy machine weighs on all alike. Writes
 * bench/results/startup.md. BENCH_ROUNDS (default 7).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

const ROOT = join(import.meta.dirname, '../..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const DEADLINE_MS = 120_000;

interface Target {
  name: string;
  args: string[];
  /** A data folder kept across rounds (the model cache in it stays); default: a fresh one per start. */
  keepData?: string;
}

const START = ['--disable-warning=DEP0111', join(ROOT, 'bin/sportello.js'), 'start'];
const KEPT = mkdtempSync(join(tmpdir(), 'sportello-bench-startup-kept-'));

const TARGETS: Target[] = [
  { name: 'bare restify (one route)', args: [join(ROOT, 'bench/startup/bare-restify.mjs')] },
  { name: 'sportello start (dist/, npm start), first start: trains the FAQ', args: START },
  { name: 'sportello start (dist/, npm start), restart: trained model from data/models/', args: START, keepData: KEPT },
  { name: 'sportello start from sources (tsx), first start', args: ['--disable-warning=DEP0111', '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'start'] },
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * CPU time (user + system) a process has used so far, in ms (Linux /proc): all its threads, or
 * (`mainOnly`) its main thread alone (JavaScript runs there; V8's compiler and garbage-collector
 * helpers run beside it on another core).
 */
function cpuMs(pid: number, mainOnly = false): number {
  const fields = readFileSync(mainOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks (100 a second).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Spawns the target and polls /healthz every 5 ms; returns ms to the first 200 and the CPU ms it used by then. */
async function measure(target: Target): Promise<{ wall: number; cpu: number; main: number }> {
  const port = await freePort();
  const dir = target.keepData ?? mkdtempSync(join(tmpdir(), 'sportello-bench-startup-'));
  const store = join(dir, `sportello-${port}.json`);
  const started = performance.now();
  const child = spawn(process.execPath, target.args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), HOST: '127.0.0.1', SPORTELLO_DATA: store, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    while (performance.now() - started < DEADLINE_MS) {
      if (child.exitCode !== null) throw new Error(`${target.name} exited ${child.exitCode}: ${stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.status === 200) return { wall: performance.now() - started, cpu: cpuMs(child.pid!), main: cpuMs(child.pid!, true) };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`${target.name}: no healthy /healthz within ${DEADLINE_MS} ms`);
  } finally {
    child.kill('SIGTERM');
    await exited;
    if (target.keepData) rmSync(store, { force: true });
    else rmSync(dir, { recursive: true, force: true });
  }
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function main() {
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the build failed');
  // The restart's model: written by one start before the rounds.
  for (const target of TARGETS) if (target.keepData) await measure(target);
  const load = [loadavg()[0]!];
  const times = new Map<string, number[]>(TARGETS.map((t) => [t.name, []]));
  const cpuTimes = new Map<string, number[]>(TARGETS.map((t) => [t.name, []]));
  const mainTimes = new Map<string, number[]>(TARGETS.map((t) => [t.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of TARGETS) {
      const { wall, cpu, main } = await measure(target);
      times.get(target.name)!.push(wall);
      cpuTimes.get(target.name)!.push(cpu);
      mainTimes.get(target.name)!.push(main);
      process.stdout.write(`round ${round}: ${target.name} ${wall.toFixed(0)} ms (CPU ${cpu.toFixed(0)} ms, main thread ${main.toFixed(0)} ms)\n`);
    }
    load.push(loadavg()[0]!);
  }
  const cpu = cpus();
  const rows = TARGETS.map((t) => {
    const xs = times.get(t.name)!;
    const cs = cpuTimes.get(t.name)!;
    const ms = mainTimes.get(t.name)!;
    return `| ${t.name} | ${quantile(xs, 0.5).toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${quantile(cs, 0.5).toFixed(0)} | ${quantile(ms, 0.5).toFixed(0)} |`;
  });
  const report = [
    '# Start-up: from `node` to a healthy /healthz',
    '',
    `Produced by \`npm run bench:startup\` (bench/startup/run.ts) on ${new Date().toISOString()} — ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, Node ${process.version}; ${ROUNDS} interleaved rounds; 1-minute load average ${load.map((l) => l.toFixed(1)).join(' → ')} (${cpu.length} cores: above ${cpu.length} the machine was busy and every figure is inflated alike).`,
    '',
    'CPU ms is the time the process ran on a core until then: all its threads (the main thread, V8\'s compiler and garbage-collector helpers), and the main thread alone, where the JavaScript runs. On a busy machine they grow far less than the wall time, so they show what an idle machine would need: on 2 idle cores the helpers run beside the main thread, and the wall time is about the main thread\'s CPU time plus the waits for files.',
    '',
    'Each start: a new process, default settings (the sample FAQ in faq/ and intents/, web chat on, the embedded store in a fresh file), polled every 5 ms until `/healthz` answers 200 (which it does only once the server listens, messages accepted before a restart are processed and channels are started). A first start trains the classifier (a fresh data folder: no model cache); a restart with the same FAQ reads the trained model from data/models/ (verified, then used as is; answers identical). The understanding worker thread starts only when the main thread is first busy, so it takes no part in a start.',
    '',
    '| what | median ms | min ms | max ms | median CPU ms (all threads) | median CPU ms (main thread) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
  rmSync(KEPT, { recursive: true, force: true });
  writeFileSync(join(ROOT, 'bench/results/startup.md'), report);
  process.stdout.write(`\n${report}`);
}

await main();
