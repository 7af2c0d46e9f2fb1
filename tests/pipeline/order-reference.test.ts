import { detectEntities } from '../../src/classifier/entities.js';
import { asksAboutGivenOrder, givenOrderOnItsWay, onlyOrderReference, withoutData } from '../../src/pipeline/order-reference.js';
import { onlySaysBack, returning } from '../../src/pipeline/returning.js';

const alone = (text: string) => onlyOrderReference(text, detectEntities(text));

describe('onlyOrderReference', () => {
  it('is true for an order number with only the words that name it or greet', () => {
    for (const text of ['AB123456', 'BR-123456', 'ordine 4455667', 'ordine n. 4455667', 'order AB123456', 'my order is BR-123456', 'hi, order no. 4455667 please', '@bottegarossi AB123456', 'ciao, ordine BR-4455667']) {
      expect([text, alone(text)]).toEqual([text, true]);
    }
  });

  it('is false when the message says something else about it, or carries other data', () => {
    for (const text of ['annullate l’ordine BR-123456', 'cancel order AB123456', 'BR-123456 è arrivato rotto', 'ordine BR-123456, mail mario@example.com', 'dov’è il mio pacco?', 'codice cliente 0612345678', 'ciao']) {
      expect([text, alone(text)]).toEqual([text, false]);
    }
  });
});

describe('returning', () => {
  const at = (iso: string) => ({ updatedAt: iso });
  const now = new Date('2026-11-24T12:00:00Z');

  it('is a customer coming back: after the case closed, after a pause, or saying so', () => {
    expect(returning(undefined, false, 'ciao', now)).toBe(false);
    expect(returning(at('2026-11-24T11:59:00Z'), false, 'ciao', now)).toBe(true);
    expect(returning(at('2026-11-24T11:00:00Z'), true, 'ciao', now)).toBe(true);
    expect(returning(at('2026-11-24T11:59:00Z'), true, 'ciao di nuovo', now)).toBe(true);
    expect(returning(at('2026-11-24T11:59:00Z'), true, 'hi again', now)).toBe(true);
    expect(returning(at('2026-11-24T11:59:00Z'), true, 'ciao?', now)).toBe(false);
  });

  it('knows a message that only says the customer is back', () => {
    for (const text of ['rieccomi', 'eccomi di nuovo', 'sono di nuovo io', 'ciao, sono ancora io', "it's me again", 'me again!', "hi, I'm back"]) expect([text, onlySaysBack(text)]).toEqual([text, true]);
    for (const text of ['ciao', 'di nuovo il pacco in ritardo', "I'm back from holiday and my parcel is missing"]) expect([text, onlySaysBack(text)]).toEqual([text, false]);
  });
});

describe('an order number given with a question about that order', () => {
  const ents = (text: string) => detectEntities(text);

  it('asks where it is or when it comes, in either language', () => {
    for (const [text, language] of [
      ['hi, my order number is BR-1122334, can you tell me when it arrives?', 'en'],
      ['order BR-1122334, where is it?', 'en'],
      ['ciao, il mio numero d\'ordine è BR-1122334, mi dite quando arriva?', 'it'],
    ] as const) expect([text, asksAboutGivenOrder(text, ents(text), language)]).toEqual([text, true]);
    for (const [text, language] of [
      ['can you tell me when it arrives?', 'en'],
      ['BR-1122334 can I return the blue one?', 'en'],
      ['BR-1122334 posso cambiare la taglia?', 'it'],
    ] as const) expect([text, asksAboutGivenOrder(text, ents(text), language)]).toEqual([text, false]);
  });

  it('speaks of the order on its way only with words of delivery, not with "where" or "when" alone', () => {
    const on = (text: string, language: 'it' | 'en') => givenOrderOnItsWay(text, ents(text), language);
    expect(on('order BR-1122334, when will it arrive?', 'en')).toBe(true);
    expect(on('ordine BR-1122334, quando viene consegnato?', 'it')).toBe(true);
    expect(on('BR-1122334 when does the shop open?', 'en')).toBe(false);
    expect(on('when will it arrive?', 'en')).toBe(false);
  });

  it('never reads the number itself into the question', () => {
    const text = 'hi, my order number is BR-1122334, can you tell me when it arrives?';
    expect(withoutData(text, ents(text))).toBe('hi, my order number is , can you tell me when it arrives?');
  });
});
