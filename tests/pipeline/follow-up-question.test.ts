import { answerPart, asksAboutNothing, asksOnlyAboutIt, followUpAnswers, followUpContext, FOLLOW_UP_MINUTES, namesNothing, usesIt } from '../../src/pipeline/follow-up-question.js';
import type { Corpus, FaqEntry } from '../../src/core/corpus.js';

const entry = (id: string, questions: string[], answer: string): FaqEntry => ({ id, locale: 'it', questions, answer, private: false, escalate: false, tags: [], file: 'x.yaml' });
const payments = entry('metodi-pagamento', ['Quali metodi di pagamento accettate?', 'Posso pagare con PayPal?'], 'Accettiamo carte, PayPal e bonifico. Il contrassegno non è disponibile.');
const returns = entry('reso', ['Come faccio un reso?'], 'Hai 30 giorni dalla consegna per il reso.');
const corpus = { faq: [payments, returns], intents: [] } as unknown as Corpus;
const now = new Date('2026-11-24T10:00:00Z');
const answered = (faqId: string, minutesAgo: number) => ({ lastAnswer: { faqId, at: new Date(now.getTime() - minutesAgo * 60_000).toISOString() } });

describe('short follow-ups of the last answer', () => {
  it('reads "e …", "what about …" and "come faccio?" with the question answered last, within the time allowed', () => {
    expect(followUpContext('e in contrassegno?', 'it', answered('metodi-pagamento', 2), corpus, now)).toBe('Quali metodi di pagamento accettate?');
    expect(followUpContext('come faccio?', 'it', answered('reso', 2), corpus, now)).toBe('Come faccio un reso?');
    expect(followUpContext('what about sale items?', 'en', answered('reso', 2), corpus, now)).toBe('Come faccio un reso?');
    expect(followUpContext('And how do I do that?', 'en', answered('reso', 2), corpus, now)).toBe('Come faccio un reso?');
    // A correction: "no aspetta, intendevo…", "sorry, I meant…".
    expect(followUpContext('no aspetta, intendevo con bonifico', 'it', answered('metodi-pagamento', 2), corpus, now)).toBe('Quali metodi di pagamento accettate?');
    expect(followUpContext('sorry, I meant Norway', 'en', answered('reso', 2), corpus, now)).toBe('Come faccio un reso?');
    expect(followUpContext('I meant the refund of my jacket please', 'en', answered('reso', 2), corpus, now)).toBeUndefined();
    // On X the mention opens the text.
    expect(followUpContext('@bottegarossi e in contrassegno?', 'it', answered('metodi-pagamento', 2), corpus, now)).toBe('Quali metodi di pagamento accettate?');
  });

  it('reads a short "how long?" or "how much?" with the question answered last, with or without an opener', () => {
    expect(followUpContext('quanto tempo ho?', 'it', answered('reso', 2), corpus, now)).toBe('Come faccio un reso?');
    expect(followUpContext('ok, quanto costa?', 'it', answered('reso', 2), corpus, now)).toBe('Come faccio un reso?');
    expect(followUpContext('how long do I have?', 'en', answered('reso', 2), corpus, now)).toBe('Come faccio un reso?');
    expect(followUpContext('is it free?', 'en', answered('reso', 2), corpus, now)).toBe('Come faccio un reso?');
    expect(followUpContext('è gratis?', 'it', answered('reso', 2), corpus, now)).toBe('Come faccio un reso?');
    // Weather is not time: "che tempo fa" asks nothing of the answer.
    expect(followUpContext('che tempo fa?', 'it', answered('reso', 2), corpus, now)).toBeUndefined();
    expect(followUpContext('quanto tempo ho?', 'it', answered('reso', FOLLOW_UP_MINUTES + 1), corpus, now)).toBeUndefined();
  });

  it('leaves alone a message that does not lean on anything, a long one, an old answer or none', () => {
    expect(followUpContext('che tempo fa domani?', 'it', answered('reso', 2), corpus, now)).toBeUndefined();
    expect(followUpContext('e poi vorrei anche sapere quanto costa spedire in Svizzera un pacco', 'it', answered('reso', 2), corpus, now)).toBeUndefined();
    expect(followUpContext('e in contrassegno?', 'it', answered('metodi-pagamento', FOLLOW_UP_MINUTES + 1), corpus, now)).toBeUndefined();
    expect(followUpContext('e in contrassegno?', 'it', {}, corpus, now)).toBeUndefined();
    // An entry removed from the FAQ since: nothing to lean on.
    expect(followUpContext('e in contrassegno?', 'it', answered('sparita', 2), corpus, now)).toBeUndefined();
    // "edizione" starts like "e" but is not the conjunction.
    expect(followUpContext('edizione limitata?', 'it', answered('reso', 2), corpus, now)).toBeUndefined();
  });

  it('does not answer the same entry again for a word only its questions name', () => {
    const shipping = entry('tempi-spedizione', ['consegnate in Svizzera?'], 'In Italia 2-3 giorni, nel resto d’Europa 4-6.');
    expect(followUpAnswers('e per la svizzera?', 'it', answered('tempi-spedizione', 1), shipping)).toBe(false);
    expect(followUpAnswers('e per la svizzera?', 'it', answered('tempi-spedizione', 1), { ...shipping, answer: 'In Italia 2-3 giorni, nel resto d’Europa (Svizzera compresa) 4-6.' })).toBe(true);
  });

  it('says of the same answer again only the sentences that speak of what the follow-up asks', () => {
    expect(answerPart('e in contrassegno?', 'it', payments)).toBe('Il contrassegno non è disponibile.');
    const shipping = entry('tempi-spedizione', [], 'Spediamo in 24 ore. In Italia 2-3 giorni, nel resto d’Europa (Svizzera compresa) 4-6. Gratis sopra i 49 euro.');
    expect(answerPart('e per la Svizzera?', 'it', shipping)).toBe('In Italia 2-3 giorni, nel resto d’Europa (Svizzera compresa) 4-6.');
    // How long, or how much, named or asked: the sentences that say it, whatever their words.
    expect(answerPart('e i tempi?', 'it', shipping)).toBe('Spediamo in 24 ore. In Italia 2-3 giorni, nel resto d’Europa (Svizzera compresa) 4-6.');
    expect(answerPart('e i costi?', 'it', shipping)).toBe('Gratis sopra i 49 euro.');
    expect(answerPart('what about the cost?', 'en', { ...shipping, answer: 'We ship within one day. Delivery takes 2-3 days. Shipping is free over 49 euros.' })).toBe('Shipping is free over 49 euros.');
    // Asked again, or every sentence speaks of it, or nothing is named: the whole answer.
    expect(answerPart('come faccio?', 'it', returns)).toBeUndefined();
    expect(answerPart('e per il reso?', 'it', returns)).toBeUndefined();
    expect(answerPart('e?', 'it', payments)).toBeUndefined();
  });

  it('answers another entry, or the same again only when asked again or when it speaks of what is asked', () => {
    expect(followUpAnswers('e a rate?', 'it', answered('metodi-pagamento', 1), returns)).toBe(true);
    expect(followUpAnswers('come faccio?', 'it', answered('reso', 1), returns)).toBe(true);
    expect(followUpAnswers('how do I do that?', 'en', answered('reso', 1), returns)).toBe(true);
    // The payments answer says cash on delivery is not available: it answers "e in contrassegno?".
    expect(followUpAnswers('e in contrassegno?', 'it', answered('metodi-pagamento', 1), payments)).toBe(true);
    // The returns answer says nothing of sales: repeating it would not answer "e per i saldi?".
    expect(followUpAnswers('e per i saldi?', 'it', answered('reso', 1), returns)).toBe(false);
    expect(followUpAnswers('e?', 'it', answered('reso', 1), returns)).toBe(false);
    // The returns answer says how long ("30 giorni"), not how much.
    expect(followUpAnswers('quanto tempo ho?', 'it', answered('reso', 1), returns)).toBe(true);
    expect(followUpAnswers('how long do I have?', 'en', answered('reso', 1), returns)).toBe(true);
    // Named rather than asked: "e i tempi?", "and the cost?".
    expect(followUpAnswers('e i tempi?', 'it', answered('reso', 1), returns)).toBe(true);
    expect(followUpAnswers('and the cost?', 'en', answered('reso', 1), { ...returns, answer: 'Returns are free within 30 days.' })).toBe(true);
    expect(followUpAnswers('e i costi?', 'it', answered('reso', 1), { ...returns, answer: 'Hai 30 giorni dalla consegna per il reso.' })).toBe(false);
    expect(followUpAnswers('quanto costa?', 'it', answered('reso', 1), returns)).toBe(false);
    expect(followUpAnswers('quanto costa?', 'it', answered('reso', 1), { ...returns, answer: 'Il reso è gratuito.' })).toBe(true);
    // On X, after the mention: the returns answer speaks of days.
    expect(followUpAnswers('@bottegarossi e in che giorni?', 'it', answered('reso', 1), returns)).toBe(true);
  });

  it('reads "how do I use it?", "come si usa?", "does it expire?" with the answer before, and says the sentence that tells how', () => {
    const gift = entry('buoni-regalo', ['vendete buoni regalo?'], 'Sì, vendiamo buoni regalo digitali: valgono 12 mesi. Per usarlo inserisci il codice al checkout.');
    const giftEn: FaqEntry = { ...gift, locale: 'en', answer: 'Yes, we sell gift cards: they are valid for 12 months. Enter the code at checkout to use it.' };
    const withGift = { faq: [gift], intents: [] } as unknown as Corpus;
    expect(followUpContext('come si usa?', 'it', answered('buoni-regalo', 2), withGift, now)).toBe('vendete buoni regalo?');
    expect(followUpContext('how does it work?', 'en', answered('buoni-regalo', 2), withGift, now)).toBe('vendete buoni regalo?');
    expect(followUpAnswers('come si usa?', 'it', answered('buoni-regalo', 2), gift)).toBe(true);
    expect(answerPart('come si usa?', 'it', gift)).toBe('Per usarlo inserisci il codice al checkout.');
    expect(answerPart('how do I use it?', 'en', giftEn)).toBe('Enter the code at checkout to use it.');
    expect(answerPart('does it expire?', 'en', giftEn)).toBe('Yes, we sell gift cards: they are valid for 12 months.');
    const instalments: FaqEntry = { ...gift, id: 'pay-in-installments', locale: 'en', answer: "Yes, choose PayPal at checkout to pay in 3 interest-free installments. We don't work with other buy-now-pay-later services." };
    expect(answerPart('how does it work?', 'en', instalments)).toBe('Yes, choose PayPal at checkout to pay in 3 interest-free installments.');
    expect(answerPart('come funziona?', 'it', { ...gift, answer: 'Sì, scegliendo PayPal al checkout paghi in 3 rate. Non collaboriamo con altri servizi.' })).toBe('Sì, scegliendo PayPal al checkout paghi in 3 rate.');
    // An answer that says no "how" is not repeated for it.
    expect(followUpAnswers('come si usa?', 'it', answered('reso', 2), returns)).toBe(false);
    // Naming nothing but the "how": about the answer before, whatever it looks like alone; naming something, not.
    expect(asksOnlyAboutIt('how does it work?', 'en')).toBe(true);
    expect(asksOnlyAboutIt('come si usa?', 'it')).toBe(true);
    expect(asksOnlyAboutIt('how does the returns process work?', 'en')).toBe(false);
    expect(asksOnlyAboutIt('come si usa il codice sconto?', 'it')).toBe(false);
    expect(asksOnlyAboutIt('dove trovo il numero?', 'it')).toBe(false);
  });

  it('reads a question about using "it" with the answer before, and says the sentence that names where', () => {
    const giftCards = entry('buoni-regalo', ['Vendete buoni regalo?'], 'Vendiamo buoni regalo da 25 a 200 euro: valgono 12 mesi, online e nel negozio di Milano. Per usarlo inserisci il codice al checkout.');
    const withCards = { faq: [giftCards, payments], intents: [] } as unknown as Corpus;
    for (const [text, language] of [['posso usarlo anche in negozio?', 'it'], ['si può usare online?', 'it'], ['lo posso spendere in negozio?', 'it'], ['can I use it in the Milan shop too?', 'en'], ['is it valid online?', 'en']] as const) {
      expect([text, usesIt(text, language)]).toEqual([text, true]);
      expect([text, followUpContext(text, language, answered('buoni-regalo', 2), withCards, now)]).toEqual([text, 'Vendete buoni regalo?']);
    }
    // The sentence that says where, not the one that says how ("usarlo" is in that one too).
    expect(answerPart('posso usarlo anche in negozio?', 'it', giftCards)).toBe('Vendiamo buoni regalo da 25 a 200 euro: valgono 12 mesi, online e nel negozio di Milano.');
    // Not a question about using something, or too long to lean on anything.
    for (const [text, language] of [['avete un negozio a Milano?', 'it'], ['posso pagare in negozio?', 'it'], ['where is your shop?', 'en'], ['can I use my old gift card from last year in the shop on Saturday please?', 'en']] as const) {
      expect([text, usesIt(text, language)]).toEqual([text, false]);
    }
    // Long after the answer: nothing to lean on.
    expect(followUpContext('posso usarlo anche in negozio?', 'it', answered('buoni-regalo', FOLLOW_UP_MINUTES + 1), withCards, now)).toBeUndefined();
  });

  it('tells a question about nothing yet ("how does it work?") from one that names its subject, however short the name', () => {
    for (const [text, language] of [['how does it work?', 'en'], ['is it free?', 'en'], ['does it expire?', 'en'], ['come funziona?', 'it'], ['quanto costa?', 'it'], ['e quanto costa?', 'it'], ['and?', 'en'], ['and now?', 'en'], ['so?', 'en'], ['e allora?', 'it'], ['e poi?', 'it'], ['novità?', 'it'], ['ci sono novità?', 'it'], ['any news?', 'en']] as const) {
      expect([text, asksAboutNothing(text, language)]).toEqual([text, true]);
    }
    for (const [text, language] of [['quanto costa il kWh?', 'it'], ['quanto costa la spedizione?', 'it'], ['how does the gift card work?', 'en'], ['is DHL free?', 'en'], ['dove siete?', 'it'], ['and the returns?', 'en'], ['e per i resi?', 'it'], ['and thanks', 'en'], ['novità sul mio reso?', 'it'], ['any news on my refund?', 'en']] as const) {
      expect([text, asksAboutNothing(text, language)]).toEqual([text, false]);
    }
  });

  it('tells a follow-up that names nothing of its own from one about something', () => {
    expect(namesNothing('e in L?', 'it')).toBe(true);
    expect(namesNothing('e poi?', 'it')).toBe(true);
    expect(namesNothing('and?', 'en')).toBe(true);
    expect(namesNothing('e che tempo fa domani?', 'it')).toBe(false);
    expect(namesNothing('what about sale items?', 'en')).toBe(false);
  });
});
