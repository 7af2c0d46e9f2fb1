import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClassifier } from '../../../src/classifier/model.js';
import { loadDataset } from '../../../src/classifier/datasets.js';
const mainCpu = () => { const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const C = 77, F = 20000;
const w = new Float32Array(F * C).map((_, i) => (i % 13) * 0.01);
const idx = Int32Array.from({ length: 60 }, (_, i) => (i * 331) % F);
const val = new Float32Array(60).fill(0.1);
const out = new Float64Array(C);
function logits() { for (let c = 0; c < C; c++) out[c] = 0; for (let k = 0; k < idx.length; k++) { const b = idx[k]! * C; const v = val[k]!; for (let c = 0; c < C; c++) out[c] = out[c]! + v * w[b + c]!; } return out[3]!; }
function bench() { let s = 0; const c0 = mainCpu(); for (let i = 0; i < 200000; i++) s += logits(); return (mainCpu() - c0) + (s < 0 ? 1 : 0); }
bench();
const before = bench();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const d = await loadDataset(path.join(root, 'bench/datasets/banking77'));
const c = createClassifier(JSON.parse(process.env.SPORTELLO_MODEL_OPTIONS ?? '{}'));
await c.train(d.train);
const after = bench();
console.log(process.env.SPORTELLO_MODEL_OPTIONS ?? '{}', 'loop cpu before', before.toFixed(2), 'after', after.toFixed(2), 'ratio', (after / before).toFixed(2));
