import { describe, expect, it } from '@jest/globals';
import { asksAboutTheWait } from '../../src/pipeline/waiting-question.js';

describe('a question about the wait for a person', () => {
  it.each([
    'how long do I have to wait?',
    'How much longer will I be waiting??',
    'when will someone reply?',
    'when is somebody getting back to me',
    'when are you going to answer me?',
    'when do I get an answer?',
    'am I still in the queue?',
    "what's my position?",
    'any update?',
    '@bottegarossi any news?',
    'quanto devo aspettare?',
    "quanto c'è da aspettare ancora?",
    'quando mi rispondete?',
    'ma quando arriva un operatore?',
    'quando avrò una risposta?',
    'sono ancora in coda?',
    'quante persone ho davanti?',
    'novità?',
    'ci sono aggiornamenti?',
    // Bare, while waiting: the wait is their only subject.
    'how long will it take?',
    'grazie, quanto ci vorrà?',
    'ok thanks, how long will it take now?',
  ])('"%s" asks where the customer stands', (text) => {
    expect(asksAboutTheWait(text)).toBe(true);
  });

  it.each([
    // Calls with nothing to ask: silent within the notice interval.
    'ci siete?',
    'hello??',
    'is anyone there?',
    // About the request, or another question the FAQ may answer.
    'how long does shipping take?',
    'quanto ci vuole per il rimborso?',
    'quando arriva il mio pacco?',
    'when will my refund arrive?',
    'any news on my refund? it has been 3 weeks',
    'novità sul mio ordine BR-12345678?',
    'I have to wait for the courier?',
  ])('"%s" does not', (text) => {
    expect(asksAboutTheWait(text)).toBe(false);
  });
});
