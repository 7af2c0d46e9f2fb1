/**
 * @module tests/fuzz/arbitraries
 * Generators of hostile input for the property-based tests of every parser of outside input:
 * arbitrary JSON, values of the wrong type (huge strings, lone surrogates, NUL, numbers outside
 * any date, deep nesting), prototype-pollution keys, and `mutated(sample)`, which keeps a valid
 * payload's shape and breaks some of its fields, so the parser is reached past its first check.
 *
 * Runs are seeded (`SEED=n`) and bounded (`RUNS=n` multiplies nothing: it is each property's count);
 * fast-check prints the seed and the shrunk counterexample on failure.
 */
import fc from 'fast-check';

export const SEED = Number(process.env.SEED ?? 20261218);
/** Runs per property; the defaults keep the whole fuzz suite well under a minute on a loaded 2-core machine. */
export function runs(defaultRuns: number): number {
  return process.env.RUNS ? Number(process.env.RUNS) : defaultRuns;
}

/** Keys that break naive object handling. */
export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'] as const;

/** A string made of one character repeated to `n` (cheap huge strings). */
const repeated = (ch: string, n: number) => ch.repeat(n);

/** `depth` levels of nested arrays or objects around `leaf`. */
export function nested(depth: number, kind: 'array' | 'object', leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i += 1) v = kind === 'array' ? [v] : { a: v };
  // fast-check prints counterexamples recursively: describe the nesting instead (JSON ignores symbol keys).
  Object.defineProperty(v, fc.toStringMethod, { value: () => `<${depth} nested ${kind}s>`, enumerable: false });
  return v;
}

/** Strings people and attackers send: unicode of every plane, control characters, lone surrogates, huge. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u2066',
    '🇮🇹👩‍👩‍👧‍👦',
    'null',
    'NaN',
    '-1',
    '1e400',
    '99999999999999999999999',
    '<script>alert(1)</script>',
    '../../etc/passwd',
    '%00',
    '${{7*7}}',
    'constructor',
    '__proto__',
    'Infinity',
    'T'.repeat(300),
  ),
  fc.constantFrom(repeated('a', 70_000), repeated('è', 30_000), repeated('😀', 20_000)),
);

/** Numbers a JSON body can carry that no field expects: out of every date range, negative, fractional, huge. */
export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, 1e21, -1e21, 8.64e15 + 1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 53, 253402300800000, 1e16),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** A value of any JSON type, with the awkward ones over-represented. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { '': '' }) },
  { weight: 1, arbitrary: fc.constantFrom(nested(1_000, 'array'), nested(500, 'object'), Array.from({ length: 5_000 }, (_, i) => i)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Defines `key` as an own, enumerable property (so `__proto__` is serialised like any key). */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
}

/** An object with some prototype-pollution keys set to nasty values. */
export const pollutedObject: fc.Arbitrary<Record<string, unknown>> = fc
  .array(fc.tuple(fc.constantFrom(...POLLUTION_KEYS), fc.oneof(nastyValue, fc.constant({ polluted: true, isAdmin: true }))), { minLength: 1, maxLength: 3 })
  .map((pairs) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of pairs) defineOwn(out, k, v);
    return out;
  });

/**
 * Variants of a valid `sample`: each field is kept (mostly), replaced by a nasty value, or
 * dropped; objects may gain prototype-pollution keys; arrays may be repeated or emptied. The
 * shape mostly survives, so parsers are exercised past their outer checks.
 */
export function mutated(sample: unknown, depth = 0): fc.Arbitrary<unknown> {
  const keep = fc.constant(sample);
  const replace = nastyValue;
  if (Array.isArray(sample)) {
    const items = sample.map((item) => mutated(item, depth + 1));
    const arrayArb: fc.Arbitrary<unknown> = items.length
      ? fc.oneof(
          { weight: 6, arbitrary: fc.tuple(...items) },
          { weight: 1, arbitrary: fc.array(fc.oneof(...items), { maxLength: 4 }) },
        )
      : fc.constant([]);
    return fc.oneof({ weight: 8, arbitrary: arrayArb }, { weight: 1, arbitrary: replace });
  }
  if (sample !== null && typeof sample === 'object') {
    const entries = Object.entries(sample as Record<string, unknown>);
    const fields = entries.map(([k, v]) =>
      fc.oneof(
        { weight: 6, arbitrary: mutated(v, depth + 1).map((value) => ({ k, value, drop: false })) },
        { weight: 1, arbitrary: fc.constant({ k, value: undefined as unknown, drop: true }) },
      ),
    );
    const objectArb = fc
      .tuple(fc.tuple(...(fields.length ? fields : [fc.constant({ k: '', value: undefined as unknown, drop: true })])), fc.option(pollutedObject, { freq: 4 }))
      .map(([chosen, extra]) => {
        const out: Record<string, unknown> = {};
        for (const f of chosen) if (!f.drop) defineOwn(out, f.k, f.value);
        if (extra) for (const [k, v] of Object.entries(extra)) defineOwn(out, k, v);
        return out;
      });
    return fc.oneof({ weight: 10, arbitrary: objectArb }, { weight: 1, arbitrary: replace });
  }
  return fc.oneof({ weight: 3, arbitrary: keep }, { weight: 2, arbitrary: replace });
}

/** Bodies that are not JSON, or JSON of the wrong kind entirely. */
export const garbageBody: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('', '{', '{"a":', '[', 'null', '""', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '\ufeff{}', '{}'.repeat(3), `${'['.repeat(100_000)}${']'.repeat(100_000)}`),
);

/** Shortens a counterexample for the failure message (huge strings and arrays would flood the log). */
function brief(value: unknown): string {
  const cut = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return v.length > 200 ? `${v.slice(0, 60)}…(${v.length} chars)` : v;
    if (v === null || typeof v !== 'object') return v;
    if (depth > 8) return Array.isArray(v) ? '[…deeper]' : '{…deeper}';
    if (Array.isArray(v)) return v.length > 20 ? [...v.slice(0, 20).map((x) => cut(x, depth + 1)), `…(${v.length} items)`] : v.map((x) => cut(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: cut(x, depth + 1), enumerable: true });
    return out;
  };
  const text = JSON.stringify(cut(value, 0)) ?? String(value);
  return text.length > 3000 ? `${text.slice(0, 3000)}…` : text;
}

/**
 * fast-check options for these tests: seeded, bounded, and a failure report that names the seed
 * and path to replay (`SEED=… ` plus `path` in the options) with a shortened counterexample.
 */
export function fuzzOptions<T>(numRuns: number): fc.Parameters<T> {
  return {
    seed: SEED,
    numRuns: runs(numRuns),
    endOnFailure: true,
    asyncReporter: async (details) => {
      if (!details.failed) return;
      const error = details.errorInstance as (Error & { cause?: unknown }) | undefined;
      const cause = error instanceof Error ? `${error.message}${error.cause ? ` (cause: ${String((error.cause as Error).message ?? error.cause)})` : ''}` : String(error);
      throw new Error(
        `property failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath}"; replay with SEED=${details.seed})\n` +
          `counterexample: ${brief(details.counterexample)}\n${cause.slice(0, 4000)}`,
      );
    },
  };
}
