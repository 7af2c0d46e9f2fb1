/**
 * An explicit request for a person is honoured wherever it is in the message, not only when the
 * classifier reads the whole message as `human_request`.
 */
import { asksForPerson, findEscalation, threatensToGoPublic } from '../../src/handoff/escalation.js';
import type { Understanding } from '../../src/core/ports.js';

const rules = { vipFollowers: 100000, vipHandles: [], crisisKeywords: ['avvocato'], angerThreshold: 0.6, missesBeforeEscalation: 2 };
const calm: Understanding = { language: 'en', classification: { ranked: [{ label: 'faq:double-charge', confidence: 0.95 }] }, entities: [], sentiment: 0, anger: 0 };

describe('an explicit request for a person', () => {
  it.each([
    'Hi, I was charged twice for my order, I want to speak to a human',
    'can I talk to a real person?',
    'get me an agent',
    'agent please',
    'can you call me back on +44 7911 123456?',
    'please call me, it is urgent',
    'potete richiamarmi al 347 1234567?',
    'mi potete chiamare domani mattina?',
    'voglio parlare con un operatore',
    'mi avete addebitato due volte, fatemi parlare con una persona vera',
    'passatemi un operatore',
    'vorrei parlare con qualcuno del servizio clienti',
    'posso parlare con il responsabile?',
    'voglio parlare con il vostro direttore',
    'passatemi un supervisore',
    'can I speak to a manager?',
    'I want to talk to your supervisor',
    'get me a manager',
  ])('is found in %j', (text) => {
    expect(asksForPerson(text)).toBe(true);
    expect(findEscalation({ text, understanding: calm, customer: {} }, rules)).toBe('human_request');
  });

  it.each([
    'non serve parlare con un operatore, ho risolto',
    "I don't want to talk to a human, just tell me the hours",
    'the operator was rude',
    "l'operatore è stato scortese",
    'ho parlato con un vostro operatore ieri',
    'talked to an agent yesterday',
    'I was charged twice for my order',
    'the courier did not call me',
    'can I call you?',
    'il corriere non mi ha chiamato',
    'non chiamatemi, scrivetemi qui',
    'chi è il responsabile del trattamento dei dati?',
    'the store manager was very kind',
    'ho parlato con il responsabile del negozio, gentilissimo',
  ])('is not read into %j', (text) => {
    expect(asksForPerson(text)).toBe(false);
    expect(findEscalation({ text, understanding: calm, customer: {} }, rules)).toBeUndefined();
  });
});

describe('an earlier message left unanswered', () => {
  it.each([
    'this is ridiculous, nobody answers my emails',
    'still no answer?? hello???',
    'no reply yet from you, I wrote on Monday',
    "I've emailed you three times about my return",
    'third time I am writing about this',
    "you guys never answer",
    "I haven't heard back from anyone",
    'no one has got back to me about the refund',
    'still waiting for a reply to my email',
    'ancora nessuna risposta?? ci siete???',
    'nessuno mi risponde da giorni',
    "è la terza volta che vi scrivo per lo stesso problema",
    'vi ho scritto tre volte e non mi rispondete',
    'non avete ancora risposto alla mia email',
    'mi state ignorando?',
    'secondo sollecito per il mio reso',
    'sto ancora aspettando una risposta',
    'aspetto una risposta da giorni',
    'avete ricevuto la mia mail?',
    'vi ho già scritto ieri per il reso',
    'did you get my message?',
    'I already wrote yesterday about my refund',
  ])('sends %j to a person', (text) => {
    expect(findEscalation({ text, understanding: calm, customer: {} }, rules)).toBe('negative_sentiment');
  });

  it.each([
    'if nobody answers I will call my lawyer',
    'what happens if no one answers the door when the courier comes?',
    'se nessuno risponde al citofono il corriere ripassa?',
    'the courier rang but nobody answered, I was at work',
    "you didn't answer my question",
    'how long do you take to answer emails?',
    'quanto tempo ci mettete a rispondere alle email?',
    'is there an answer to my question about sizes?',
    'no answer needed, thanks!',
    'I have written my address wrong',
    'I asked yesterday about returns, how long do I have?',
    'ho già scritto la recensione, grazie',
    "se non avete ricevuto la mia mail ve la rimando",
    'I wrote my order number on the box',
  ])('does not read it into %j', (text) => {
    expect(findEscalation({ text, understanding: calm, customer: {} }, rules)).toBeUndefined();
  });
});

describe('a threat to take it public or to the reviews', () => {
  it.each([
    "I'll post this everywhere if you don't fix it",
    "I'm going to post this on social media",
    "I'll leave a 1 star review",
    'lo scrivo su tutti i social',
    'vi lascio una recensione negativa',
    'una stella su google, vergogna',
  ])('sends %j to a person', (text) => {
    expect(threatensToGoPublic(text)).toBe(true);
    expect(findEscalation({ text, understanding: calm, customer: {} }, rules)).toBe('negative_sentiment');
  });

  it.each(['vi lascio una recensione a 5 stelle, bravissimi!', 'posso lasciare una recensione?', 'how do I leave a review?', "I'll leave a great review", 'I will share this on facebook, love it'])('does not read it into %j', (text) => {
    expect(threatensToGoPublic(text)).toBe(false);
    expect(findEscalation({ text, understanding: calm, customer: {} }, rules)).toBeUndefined();
  });
});
