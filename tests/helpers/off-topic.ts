/**
 * The held-out check of issue 17 ("confidence stays calibrated"): off-topic messages must not get a
 * confident FAQ answer, paraphrases of the FAQ must. Fixture: tests/classifier/fixtures/off-topic.yaml.
 * Used by tests/classifier/off-topic.test.ts and bench/nlu/off-topic.ts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { Understander } from '../../src/core/ports.js';
import type { Language } from '../../src/core/types.js';

export interface OffTopicFixture {
  off_topic: Record<Language, string[]>;
  in_scope: Record<Language, Record<string, string[]>>;
  issue: Record<Language, string[]>;
  /** Misspelt questions about the shop, by entry. */
  misspelt: Record<Language, Record<string, string[]>>;
}

export async function loadOffTopicFixture(root = process.cwd()): Promise<OffTopicFixture> {
  return parse(await readFile(path.join(root, 'tests/classifier/fixtures/off-topic.yaml'), 'utf8')) as OffTopicFixture;
}

export interface Scored {
  text: string;
  language: Language;
  expected?: string;
  label: string | undefined;
  confidence: number;
}

export interface OffTopicFigures {
  /** Off-topic messages whose best label is an FAQ entry at ≥ threshold (answered with an unrelated entry). */
  offTopicAnswered: Scored[];
  offTopicCount: number;
  /** In-scope paraphrases whose best label is their entry at ≥ threshold. */
  inScopeRight: Scored[];
  inScopeWrong: Scored[];
  inScopeCount: number;
  byLanguage: Record<Language, { offTopicAnswered: number; offTopic: number; inScopeRight: number; inScope: number }>;
  all: { offTopic: Scored[]; inScope: Scored[]; issue: Scored[] };
}

/** Scores an understander (trained on faq/ and intents/) as the pipeline reads it: the best label and its confidence. */
export function measureOffTopic(understander: Understander, fixture: OffTopicFixture, threshold = 0.5): OffTopicFigures {
  const score = (text: string, language: Language, expected?: string): Scored => {
    const top = understander.understand(text).classification.ranked[0];
    return { text, language, ...(expected ? { expected } : {}), label: top?.label, confidence: top?.confidence ?? 0 };
  };
  const languages: Language[] = ['it', 'en'];
  const offTopic = languages.flatMap((l) => fixture.off_topic[l].map((t) => score(t, l)));
  const inScope = languages.flatMap((l) =>
    Object.entries(fixture.in_scope[l]).flatMap(([id, texts]) => texts.map((t) => score(t, l, `faq:${id}`))),
  );
  const issue = languages.flatMap((l) => (fixture.issue?.[l] ?? []).map((t) => score(t, l)));
  const answered = (s: Scored) => s.label?.startsWith('faq:') === true && s.confidence >= threshold;
  const right = (s: Scored) => s.label === s.expected && s.confidence >= threshold;
  const byLanguage = Object.fromEntries(
    languages.map((l) => [
      l,
      {
        offTopicAnswered: offTopic.filter((s) => s.language === l && answered(s)).length,
        offTopic: offTopic.filter((s) => s.language === l).length,
        inScopeRight: inScope.filter((s) => s.language === l && right(s)).length,
        inScope: inScope.filter((s) => s.language === l).length,
      },
    ]),
  ) as OffTopicFigures['byLanguage'];
  return {
    offTopicAnswered: offTopic.filter(answered),
    offTopicCount: offTopic.length,
    inScopeRight: inScope.filter(right),
    inScopeWrong: inScope.filter((s) => !right(s)),
    inScopeCount: inScope.length,
    byLanguage,
    all: { offTopic, inScope, issue },
  };
}
