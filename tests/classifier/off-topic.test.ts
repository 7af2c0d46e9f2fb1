/**
 * Issue 17, "confidence stays calibrated": trained on the sample corpus as the server trains it,
 * held-out off-topic messages (tests/classifier/fixtures/off-topic.yaml, never trained on) do not
 * get a confident FAQ answer, and held-out paraphrases of the FAQ still do.
 * Measured when written (bench/nlu/off-topic.ts): off-topic answered with an FAQ entry at ≥ 0.5
 * 3.4% (it 3.4, en 3.4; 14.8% before the off_topic intent and the squared coverage), 4.0% once misspelt words count half; paraphrases
 * right at ≥ 0.5 96.7% (it 96.7, en 96.7; 97.5% before). The bounds leave room for small changes.
 */
import type { Understander } from '../../src/core/ports.js';
import { loadOffTopicFixture, measureOffTopic, type OffTopicFigures, type OffTopicFixture } from '../helpers/off-topic.js';
import { trainSampleUnderstander } from '../helpers/sample-understander.js';

const ANSWER_THRESHOLD = 0.5; // src/config/config.ts default

let understander: Understander;
let fixture: OffTopicFixture;
let figures: OffTopicFigures;
beforeAll(async () => {
  ({ understander } = await trainSampleUnderstander());
  fixture = await loadOffTopicFixture();
  figures = measureOffTopic(understander, fixture, ANSWER_THRESHOLD);
});

const show = (list: OffTopicFigures['offTopicAnswered']) => list.map((s) => `${s.text} → ${s.label} ${s.confidence}`);

describe('off-topic messages on the sample corpus (issue 17)', () => {
  it('holds at least 80 off-topic messages and 40 paraphrases per language', () => {
    for (const l of ['it', 'en'] as const) {
      expect(fixture.off_topic[l].length).toBeGreaterThanOrEqual(80);
      expect(Object.values(fixture.in_scope[l]).flat().length).toBeGreaterThanOrEqual(40);
    }
  });

  it('answers few held-out off-topic messages with an FAQ entry', () => {
    const share = figures.offTopicAnswered.length / figures.offTopicCount;
    // Measured 4.0% (7 of 176); a failure lists the ones answered.
    expect({ withinBound: share <= 0.08, answered: show(figures.offTopicAnswered) }).toEqual({ withinBound: true, answered: expect.any(Array) });
    for (const l of ['it', 'en'] as const) {
      expect(figures.byLanguage[l].offTopicAnswered / figures.byLanguage[l].offTopic).toBeLessThanOrEqual(0.1);
    }
  });

  it('still answers held-out paraphrases of the FAQ with their entry, confidently', () => {
    // Measured 96.7% (116 of 120).
    expect(figures.inScopeRight.length / figures.inScopeCount).toBeGreaterThanOrEqual(0.88);
    for (const l of ['it', 'en'] as const) {
      expect(figures.byLanguage[l].inScopeRight / figures.byLanguage[l].inScope).toBeGreaterThanOrEqual(0.85);
    }
  });

  it('answers none of the messages of the issue with an FAQ entry', () => {
    const answered = figures.all.issue.filter((s) => s.label?.startsWith('faq:') && s.confidence >= ANSWER_THRESHOLD);
    expect(show(answered)).toEqual([]);
  });

  it('understands a number alone as no answer at all (an order number without its prefix, "42")', () => {
    for (const text of ['12345678', '123', '42', '  2024 ']) {
      const top = understander.understand(text).classification.ranked[0];
      expect([text, (top?.confidence ?? 0) < 0.2]).toEqual([text, true]);
    }
    // A number inside a question still counts with its words.
    const withWords = understander.understand('consegnate in 24 ore?').classification.ranked[0];
    expect(withWords?.label).toBe('faq:spedizione-express');
  });

  it('answers misspelt questions about the shop: a word one slip from a corpus word is read as it (spelling.ts)', () => {
    const cases = (['it', 'en'] as const).flatMap((l) => Object.entries(fixture.misspelt[l]).flatMap(([id, texts]) => texts.map((text) => ({ text, id }))));
    expect(cases.length).toBe(30);
    const right = cases.filter(({ text, id }) => {
      const top = understander.understand(text).classification.ranked[0];
      return top?.label === `faq:${id}` && top.confidence >= ANSWER_THRESHOLD;
    });
    // Measured 28 of 30 (21 before the spelling correction, 18 without the near-known allowance).
    expect(right.length).toBeGreaterThanOrEqual(26);
  });

  it('keeps questions about the shop that share words with off-topic ones', () => {
    const cases: Array<[string, string]> = [
      ['what time do you open on saturday morning?', 'faq:opening-hours'],
      ['quanto costa spedire in Germania?', 'faq:tempi-spedizione'],
      ['dove si trova il vostro negozio?', 'faq:negozio-fisico'],
      ['domani siete aperti?', 'faq:orari-apertura'],
      ['how much does express delivery cost?', 'faq:express-shipping'],
    ];
    for (const [text, label] of cases) {
      const top = understander.understand(text).classification.ranked[0];
      expect({ text, label: top?.label, confident: (top?.confidence ?? 0) >= ANSWER_THRESHOLD }).toEqual({ text, label, confident: true });
    }
  });

  it('gives chit-chat and questions about something else the off_topic reply', () => {
    for (const text of ['how old are you?', 'come ti chiami?', 'tell me a joke', 'mi racconti una barzelletta?']) {
      expect(understander.understand(text).classification.ranked[0]?.label).toBe('intent:off_topic');
    }
  });

  it('answers «what can you do?» with what the bot answers about (bot_identity), not «that is not something I can help with»', () => {
    for (const text of ['what can you do?', 'cosa sai fare?']) {
      expect(understander.understand(text).classification.ranked[0]?.label).toBe('intent:bot_identity');
    }
  });
});
