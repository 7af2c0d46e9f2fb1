import { describe, expect, it } from '@jest/globals';
import { decide } from '../../src/pipeline/decide.js';
import { triedAlready } from '../../src/pipeline/tried-already.js';

const now = new Date('2026-11-24T11:10:00+01:00');
const answered = { lastAnswer: { faqId: 'password-dimenticata', at: '2026-11-24T11:00:00+01:00' } };

describe('triedAlready', () => {
  it('hears that the answer just given was tried and did not help, in both languages', () => {
    for (const text of ['ho già controllato lo spam', 'ho provato ma non funziona', 'già fatto, ancora niente', 'non mi arriva']) expect({ text, tried: triedAlready(text, 'it', answered, now) }).toEqual({ text, tried: true });
    for (const text of ['I checked spam already', "tried that already, it doesn't work", 'still nothing', 'no luck', "I've already tried"]) expect({ text, tried: triedAlready(text, 'en', answered, now) }).toEqual({ text, tried: true });
  });

  it('does not hear it in other words, without an answer before, or half an hour after it', () => {
    for (const text of ['grazie mille', 'e per la Svizzera?', 'ok']) expect(triedAlready(text, 'it', answered, now)).toBe(false);
    for (const text of ['thanks!', 'what about students?']) expect(triedAlready(text, 'en', answered, now)).toBe(false);
    expect(triedAlready('I checked spam already', 'en', {}, now)).toBe(false);
    expect(triedAlready('I checked spam already', 'en', answered, new Date('2026-11-24T11:31:00+01:00'))).toBe(false);
  });
});

describe('an obstacle to a step the answer gives', () => {
  const entry = (id: string, locale: 'it' | 'en', answer: string) => ({ id, locale, questions: ['?'], answer, private: false, escalate: false, tags: [], file: 'x.yaml' });
  const faq = [
    entry('resi', 'it', "Hai 30 giorni dalla consegna per il reso, gratuito. Avvia la richiesta dalla sezione I miei ordini del sito e stampa l'etichetta prepagata."),
    entry('returns', 'en', 'You have 30 days from delivery to return an item, free of charge. Start the return from My orders on our website and print the prepaid label.'),
  ];
  const after = (faqId: string) => ({ lastAnswer: { faqId, at: '2026-11-24T11:00:00+01:00' } });

  it('is heard when a "not" names what the answer itself names, and asks nothing', () => {
    for (const text of ["ma l'etichetta non si stampa, non ho la stampante", 'non trovo la sezione I miei ordini', 'sul sito non si apre la pagina del reso']) expect({ text, stuck: triedAlready(text, 'it', after('resi'), now, faq) }).toEqual({ text, stuck: true });
    for (const text of ["but I don't have a printer for the label", "I can't find My orders on the website"]) expect({ text, stuck: triedAlready(text, 'en', after('returns'), now, faq) }).toEqual({ text, stuck: true });
  });

  it('is not heard in a question, without a "not", about what the answer does not name, or without the answer given', () => {
    expect(triedAlready("non si può stampare l'etichetta in negozio?", 'it', after('resi'), now, faq)).toBe(false);
    expect(triedAlready("ho stampato l'etichetta, grazie", 'it', after('resi'), now, faq)).toBe(false);
    expect(triedAlready('non ho più la scatola', 'it', after('resi'), now, faq)).toBe(false);
    expect(triedAlready("I can't find My orders on the website", 'en', after('returns'), now)).toBe(false);
    expect(triedAlready("I can't find My orders on the website", 'en', after('returns'), new Date('2026-11-24T11:31:00+01:00'), faq)).toBe(false);
  });
});

describe('the decision table, told the answer did not help', () => {
  const base = {
    state: 'bot' as const,
    visibility: 'private' as const,
    text: 'I checked spam already',
    understanding: { language: 'en' as const, classification: { ranked: [] }, entities: [], sentiment: 0, anger: 0 },
    missStreak: 0,
    carries: [],
    noticeDue: false,
    midConversation: true,
    customer: { handle: 'kim', followers: 10 },
    rules: { crisisKeywords: [], missesBeforeEscalation: 2, vipFollowers: 10_000, vipHandles: [], angerThreshold: 0.6 },
    thresholds: { answer: 0.5, clarify: 0.2 },
  };
  it('hands over the same answer again, or another entry only half read, but answers a sure reading of another entry', () => {
    const entry = (id: string) => ({ id, locale: 'en' as const, questions: ['?'], answer: '…', private: false, escalate: false, tags: [], file: 'x.yaml' });
    const read = (id: string, confidence: number) => ({
      understanding: { ...base.understanding, classification: { ranked: [{ label: `faq:${id}`, confidence }] } },
      top: { label: `faq:${id}`, confidence, entry: entry(id) },
    });
    expect(decide({ ...base, ...read('forgot-password', 1), triedAlready: true, sameAsLastAnswer: true })).toEqual({ action: 'escalate', reason: 'low_confidence' });
    expect(decide({ ...base, ...read('newsletter', 0.63), triedAlready: true, sameAsLastAnswer: false })).toEqual({ action: 'escalate', reason: 'low_confidence' });
    expect(decide({ ...base, ...read('damaged-parcel', 0.99), triedAlready: true, sameAsLastAnswer: false })).toMatchObject({ action: 'answer', entry: { id: 'damaged-parcel' } });
    expect(decide({ ...base, ...read('forgot-password', 1), triedAlready: false, sameAsLastAnswer: true })).toMatchObject({ action: 'answer' });
  });

  it('hands a message it does not understand to a person at once, instead of asking to rephrase', () => {
    expect(decide({ ...base, triedAlready: true })).toEqual({ action: 'escalate', reason: 'low_confidence' });
    expect(decide({ ...base, triedAlready: false })).toMatchObject({ action: 'clarify' });
  });
});
