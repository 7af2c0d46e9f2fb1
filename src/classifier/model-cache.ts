/**
 * @module classifier/model-cache
 * Trained models on disk, so a restart with an unchanged corpus skips training (about a second of
 * CPU for the sample FAQ). A file is named by its key, a SHA-256 of everything training depends
 * on: the examples in order, the options, and the code that trains and classifies (the files of
 * this folder, the random generator, compromise and the Snowball stemmers). Any change to one of
 * them — a FAQ edit, a new setting, another version of Sportello — is another key, so a model is
 * never read for a corpus or a code it was not trained on.
 *
 * A file is trusted only when everything checks: its header names this format and this key, the
 * payload has the length and the SHA-256 the header gives, and the deserialised model has the
 * shape and the sizes of a model (zod). Anything else — a truncated write, a flipped byte, a file of
 * another version — is ignored: the model is trained again and the file replaced (written to a
 * temporary name, then renamed, so a reader never sees half a file). The cache holds what the
 * corpus holds (FAQ questions and intents' examples, approved suggestions with private data
 * already replaced by placeholders): no personal data.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { z } from 'zod';
import type { TrainingExample } from '../core/ports.js';
import type { ModelSnapshot } from './model.js';

/** The file layout: bump when the header or the payload changes shape. */
const FORMAT = 'sportello-model/1';
/** Model files kept in the folder (the newest used); older ones are removed after a write. */
const KEEP = 4;
const PREFIX = 'model-';
const SUFFIX = '.bin';

let codeFingerprint: string | undefined;

/**
 * A hash of the code a model depends on: the files of src/classifier (or dist/classifier), the
 * seeded random generator, and the stemming libraries' code. Read once per process.
 */
function fingerprintOfCode(): string {
  if (codeFingerprint) return codeFingerprint;
  const hash = createHash('sha256');
  const here = dirname(fileURLToPath(import.meta.url));
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const files = readdirSync(here)
    .filter((name) => /\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts'))
    .sort()
    .map((name) => join(here, name));
  files.push(join(here, `../util/random${ext}`));
  const require = createRequire(import.meta.url);
  for (const library of ['compromise', 'snowball-stemmers']) files.push(require.resolve(library));
  for (const file of files) {
    hash.update(file.slice(file.lastIndexOf('/') + 1));
    hash.update(readFileSync(file));
  }
  codeFingerprint = hash.digest('hex');
  return codeFingerprint;
}

/** The key of a model: examples (in order), options and code. */
export function modelKey(examples: readonly TrainingExample[], options: unknown): string {
  const hash = createHash('sha256');
  hash.update(FORMAT);
  hash.update(fingerprintOfCode());
  hash.update(JSON.stringify(options ?? {}));
  for (const e of examples) hash.update(JSON.stringify([e.text, e.label, e.language ?? null]));
  return hash.digest('hex');
}

const Header = z.object({
  format: z.literal(FORMAT),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

// Checked with util.types rather than instanceof: the deserialised objects may come from another realm (a vm context).
const map = z.custom<Map<unknown, unknown>>((v) => types.isMap(v), 'a Map');
const set = z.custom<Set<unknown>>((v) => types.isSet(v), 'a Set');
const float32 = z.custom<Float32Array>((v) => types.isFloat32Array(v), 'a Float32Array');
const int32 = z.custom<Int32Array>((v) => types.isInt32Array(v), 'an Int32Array');
const language = z.enum(['it', 'en']);
const sparse = z.object({ idx: int32, val: float32 });
const Snapshot = z
  .object({
    labels: z.array(z.string().min(1)).min(1),
    labelLanguages: z.array(set.optional()),
    twinLabels: z.array(z.object({ it: z.string().min(1).optional(), en: z.string().min(1).optional() }).optional()).optional(),
    featureIndex: map,
    weights: float32,
    bias: float32,
    temperature: z.number().positive().finite(),
    vocabulary: set,
    knownWords: z.object({ it: map, en: map }),
    examplesByLabel: z.array(z.array(sparse)).optional(),
    exactLanguage: map,
    exactLabels: map,
    phrases: map,
    concepts: z.object({ it: map, en: map }).optional(),
    onlyLanguage: language.optional(),
    retrieval: z.object({ start: int32, label: int32, value: float32 }).optional(),
    idf: float32.optional(),
    network: z
      .object({
        net: z.object({
          hidden: z.number().int().positive(),
          inputMap: int32,
          w1: float32,
          b1: float32,
          w2: float32,
          b2: float32,
          temperature: z.number().positive().finite(),
        }),
        weight: z.number().min(0).max(1),
      })
      .optional(),
    stopTerms: z.object({ it: set, en: set }),
    confidenceMap: z
      .object({
        slope: z.number().positive().finite(),
        intercept: z.number().finite(),
        outOfScope: z.object({ index: z.number().int().nonnegative(), slope: z.number().finite() }).optional(),
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    const features = m.featureIndex.size;
    const labels = m.labels.length;
    const problems: string[] = [];
    if (m.labelLanguages.length !== labels) problems.push('labelLanguages');
    if (m.twinLabels && m.twinLabels.length !== labels) problems.push('twinLabels');
    if (m.bias.length !== labels) problems.push('bias');
    if (m.weights.length !== (m.retrieval ? 0 : features * labels)) problems.push('weights');
    if (m.idf && m.idf.length !== features) problems.push('idf');
    if (m.examplesByLabel && m.examplesByLabel.length !== labels) problems.push('examplesByLabel');
    if (m.retrieval && m.retrieval.start.length !== features + 1) problems.push('retrieval');
    if (m.confidenceMap?.outOfScope && m.confidenceMap.outOfScope.index >= labels) problems.push('confidenceMap');
    if (m.network) {
      const { hidden, inputMap, w1, b1, w2, b2 } = m.network.net;
      let rows = 0;
      for (const r of inputMap) if (r >= 0) rows++;
      if (inputMap.length !== features || w1.length !== rows * hidden || b1.length !== hidden || w2.length !== labels * hidden || b2.length !== labels) problems.push('network');
      else if (inputMap.some((r) => r >= rows)) problems.push('network inputs');
    }
    for (const [feature, id] of m.featureIndex) {
      if (typeof feature !== 'string' || typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= features) {
        problems.push('featureIndex');
        break;
      }
    }
    for (const known of [m.knownWords.it, m.knownWords.en]) {
      if ([...known].some(([word, count]) => typeof word !== 'string' || typeof count !== 'number' || !Number.isInteger(count) || count < 1)) {
        problems.push('knownWords');
        break;
      }
    }
    for (const id of m.exactLabels.values()) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= labels) {
        problems.push('exactLabels');
        break;
      }
    }
    const vectors = m.examplesByLabel?.flat() ?? [];
    if (vectors.some((v) => v.idx.length !== v.val.length || v.idx.some((i) => i < 0 || i >= features))) problems.push('examplesByLabel vectors');
    if (problems.length > 0) ctx.addIssue({ code: 'custom', message: `sizes do not fit: ${problems.join(', ')}` });
  });

/** What a look-up found: the model, or why there is none to use. */
export type CacheRead = { model: ModelSnapshot } | { missing: true } | { ignored: string };

/** The file of a key in `dir`. */
export function modelFile(dir: string, key: string): string {
  return join(dir, `${PREFIX}${key}${SUFFIX}`);
}

/** Reads and checks the model of `key`; never throws. */
export async function readCachedModel(dir: string, key: string): Promise<CacheRead> {
  const file = modelFile(dir, key);
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { ignored: `cannot read ${file}: ${(err as Error).message}` };
  }
  try {
    const newline = data.indexOf(10);
    if (newline < 0) return { ignored: `${file}: no header` };
    let headerJson: unknown;
    try {
      headerJson = JSON.parse(data.subarray(0, newline).toString('utf8'));
    } catch {
      headerJson = undefined;
    }
    const header = Header.safeParse(headerJson);
    if (!header.success) return { ignored: `${file}: not a model file of format ${FORMAT}` };
    if (header.data.key !== key) return { ignored: `${file}: written for another corpus or version` };
    const payload = data.subarray(newline + 1);
    if (payload.length !== header.data.bytes) return { ignored: `${file}: ${payload.length} bytes instead of ${header.data.bytes} (truncated?)` };
    if (createHash('sha256').update(payload).digest('hex') !== header.data.sha256) return { ignored: `${file}: the content does not match its checksum` };
    const model = Snapshot.safeParse(deserialize(payload));
    if (!model.success) return { ignored: `${file}: not a model (${model.error.issues[0]?.message ?? 'bad shape'})` };
    // A model in use stays among the newest, so pruning keeps it.
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined);
    return { model: model.data as unknown as ModelSnapshot };
  } catch (err) {
    return { ignored: `${file}: ${(err as Error).message}` };
  }
}

/** Writes the model of `key` (a temporary file renamed into place) and removes old models beyond the newest few. */
export async function writeCachedModel(dir: string, key: string, model: ModelSnapshot): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const payload = serialize(model);
  const header = JSON.stringify({ format: FORMAT, key, bytes: payload.length, sha256: createHash('sha256').update(payload).digest('hex') });
  const file = modelFile(dir, key);
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temporary, Buffer.concat([Buffer.from(`${header}\n`, 'utf8'), payload]), { mode: 0o600 });
    await rename(temporary, file);
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
  await prune(dir);
}

async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.startsWith(PREFIX) && n.endsWith(SUFFIX));
  if (names.length <= KEEP) return;
  const dated = await Promise.all(names.map(async (n) => ({ n, at: await stat(join(dir, n)).then((s) => s.mtimeMs, () => 0) })));
  dated.sort((a, b) => b.at - a.at);
  await Promise.all(dated.slice(KEEP).map(({ n }) => unlink(join(dir, n)).catch(() => undefined)));
}
