import { describe, expect, it } from '@jest/globals';
import type { FaqEntry } from '../../src/core/corpus.js';
import { codeOfAnswer } from '../../src/pipeline/code-of-answer.js';
import { decide } from '../../src/pipeline/decide.js';

const entry = (id: string, answer: string): FaqEntry => ({ id, locale: 'it', questions: ['?'], answer, private: false, escalate: false, tags: [], file: 'x.yaml' });
const faq = [
  entry('codici-sconto', 'Inserisci il codice nel carrello, nel campo "Codice sconto", prima del pagamento.'),
  entry('discount-codes', 'Enter the code in your basket, in the "Discount code" field, before paying.'),
  entry('orari', 'Siamo aperti dal lunedì al venerdì, dalle 9 alle 18.'),
];
const now = new Date('2026-11-24T11:10:00+01:00');
const after = (faqId: string, at = '2026-11-24T11:00:00+01:00') => ({ lastAnswer: { faqId, at } });

describe('codeOfAnswer', () => {
  it('takes a code alone, or with words that name it or say it did not work, right after an answer about codes, in both languages', () => {
    for (const text of ['SCONTO10', 'il codice NATALE25 non funziona', 'ho inserito PROMO2024 ma non va', '@bottegarossi SCONTO10', 'sconto10', '4455667'])
      expect({ text, code: codeOfAnswer(text, after('codici-sconto'), faq, now, false) }).toEqual({ text, code: true });
    for (const text of ['WELCOME-15', "WELCOME-15 doesn't work", 'my code is XMAS2026', 'PROMO2024 thanks', 'BLACKFRIDAY'])
      expect({ text, code: codeOfAnswer(text, after('discount-codes'), faq, now, false) }).toEqual({ text, code: true });
  });

  it('does not take words, two codes, a sentence, an answer about something else, or a code half an hour later', () => {
    for (const text of ['grazie', 'ok', 'GRAZIE', 'e per la Svizzera?', 'SCONTO10 e NATALE25', 'il codice SCONTO10 vale anche sui saldi in negozio?', 'quanto costa la spedizione 2026'])
      expect({ text, code: codeOfAnswer(text, after('codici-sconto'), faq, now, false) }).toEqual({ text, code: false });
    // A word in capitals the message was understood as is that word ("HELP", "GRAZIE"), not a code.
    expect(codeOfAnswer('BLACKFRIDAY', after('discount-codes'), faq, now, true)).toBe(false);
    expect(codeOfAnswer('SCONTO10', after('orari'), faq, now, false)).toBe(false);
    expect(codeOfAnswer('SCONTO10', {}, faq, now, false)).toBe(false);
    expect(codeOfAnswer('SCONTO10', after('codici-sconto', '2026-11-24T10:39:00+01:00'), faq, now, false)).toBe(false);
  });
});

describe('the decision table, sent a code after an answer about codes', () => {
  const base = {
    state: 'bot' as const,
    visibility: 'private' as const,
    text: 'PROMO2024',
    // Shaped like an order number: read as the order-status request, surely.
    understanding: { language: 'en' as const, classification: { ranked: [{ label: 'faq:order-status', confidence: 0.95 }] }, entities: [], sentiment: 0, anger: 0 },
    top: { label: 'faq:order-status', confidence: 0.95, entry: { ...entry('order-status', 'Send me your order number.'), private: true } },
    missStreak: 0,
    carries: ['order_number' as const],
    noticeDue: false,
    midConversation: true,
    customer: { handle: 'sam', followers: 10 },
    rules: { crisisKeywords: [], missesBeforeEscalation: 2, vipFollowers: 10_000, vipHandles: [], angerThreshold: 0.6 },
    thresholds: { answer: 0.5, clarify: 0.2 },
  };
  it('hands the code to a person, before any other reading of it', () => {
    expect(decide({ ...base, codeOfAnswer: true })).toEqual({ action: 'escalate', reason: 'private_case', code: true });
    expect(decide({ ...base, codeOfAnswer: false })).toEqual({ action: 'escalate', reason: 'private_case' });
    expect(decide({ ...base, top: undefined, understanding: { ...base.understanding, classification: { ranked: [] } }, carries: [], codeOfAnswer: false })).toMatchObject({ action: 'clarify' });
  });
});
