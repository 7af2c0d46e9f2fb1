import { writeFileSync } from 'node:fs';
import { calmDays, merge, spike, toJsonl } from './listening-streams.js';
import { runCli } from '../../src/cli/run.js';
import { PassThrough } from 'node:stream';
const lines = merge(calmDays('2026-03-02T00:00:00+01:00', 7), spike('2026-03-09T10:00:00+01:00'));
writeFileSync('/tmp/lst/s.jsonl', toJsonl(lines));
const out: string[] = [];
const stdout = new PassThrough(); stdout.on('data', (d) => out.push(String(d)));
const t = Date.now();
const code = await runCli(['replay', '/tmp/lst/s.jsonl', '--json'], { stdin: process.stdin, stdout, stderr: process.stderr });
const text = out.join('');
writeFileSync('/tmp/lst/out.jsonl', text);
console.log('code', code, 'ms', Date.now() - t, 'lines', lines.length);
for (const l of text.trim().split('\n')) { const o = JSON.parse(l); if (o.type !== 'item') console.log(l); }
