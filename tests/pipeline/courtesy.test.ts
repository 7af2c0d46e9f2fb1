import { describe, expect, it } from '@jest/globals';
import { afterCourtesy, afterGreeting, onlyCourtesy, pointOf, sarcasticThanks } from '../../src/pipeline/courtesy.js';

describe('a courtesy that opens an objection', () => {
  it.each([
    ['grazie ma non ho capito', 'non ho capito'],
    ['ok grazie, però il problema resta', 'il problema resta'],
    ['grazie per la risposta ma non mi è servito', 'non mi è servito'],
    ["grazie dell'aiuto ma non funziona", 'non funziona'],
    ['grazie. Ma quando arriva?', 'quando arriva?'],
    ["Thanks, but that doesn't answer my question", "that doesn't answer my question"],
    ['thanks for the info, but I still have a problem', 'I still have a problem'],
    ['Ok but how much is shipping?', 'how much is shipping?'],
    // On X the mention opens the text.
    ['@bottegarossi grazie, ma non ho capito', 'non ho capito'],
  ])('%s → read as "%s"', (text, point) => {
    expect(pointOf(text)).toBe(point);
  });

  it.each(['grazie mille', 'grazie ma no', 'ma grazie', 'grazie mamma', 'ok butter', 'quali sono gli orari? grazie ma non subito', 'thank you so much'])('leaves "%s" whole', (text) => {
    expect(pointOf(text)).toBe(text);
  });
});

describe('what follows the greeting that opens a message', () => {
  it.each([
    ['hey, do you ship to Switzerland?', 'do you ship to Switzerland?'],
    ['Hi there! how do returns work?', 'how do returns work?'],
    ['buongiorno a tutti, avete un negozio a Roma?', 'avete un negozio a Roma?'],
    ["@bottegarossi ciao! dov'è il mio ordine?", "dov'è il mio ordine?"],
    ['Good morning. My parcel never arrived', 'My parcel never arrived'],
  ])('%s → "%s"', (text, rest) => {
    expect(afterGreeting(text)).toBe(rest);
  });

  it.each(['ciao', 'ciao!', 'hello?', 'hi there', 'ciao a tutti!!', 'buonasera, ok', 'highlights of the sale?', 'hellooo', "dov'è il mio ordine? ciao"])('finds nothing more in "%s"', (text) => {
    expect(afterGreeting(text)).toBeUndefined();
  });
});

describe('what follows the courtesies that open a message', () => {
  it.each([
    ['grazie mille eh, ancora niente pacco dopo 10 giorni 🙄', 'ancora niente pacco dopo 10 giorni 🙄'],
    ['thanks, where is my order?', 'where is my order?'],
    ["grazie per l'aiuto, siete stati gentilissimi", 'siete stati gentilissimi'],
    ['ok grazie! e per il reso?', 'e per il reso?'],
    ['@bottegarossi thank you so much, still no refund', 'still no refund'],
  ])('%s → "%s"', (text, rest) => {
    expect(afterCourtesy(text)).toBe(rest);
  });

  it.each(['grazie', 'ok grazie', 'grazie mille!!', 'thanks a lot :)', 'grazie, ok', 'graziella mi ha detto di scrivervi', 'dove è il mio ordine? grazie'])('finds nothing more in "%s"', (text) => {
    expect(afterCourtesy(text)).toBeUndefined();
  });
});

describe('messages of acknowledgements and courtesies only', () => {
  it.each([
    ['ok cool', 'ok'],
    ['@bottegarossi ok cool', 'ok'],
    ['va bene, perfetto', 'ok'],
    ['alright, got it!', 'ok'],
    ['ok grazie 👍', 'thanks'],
    ['okay thanks a lot!', 'thanks'],
    ['perfetto, grazie mille', 'thanks'],
  ])('%s → %s', (text, kind) => {
    expect(onlyCourtesy(text)).toBe(kind);
  });

  // A "yes" answers something (an offer, a question): not an acknowledgement to stay silent at.
  it.each(['ok ma quando arriva?', 'cool shoes', 'ok cool, and returns?', 'sì', 'yes', 'yes thanks', '', 'ok 12345'])('finds more than courtesy in "%s"', (text) => {
    expect(onlyCourtesy(text)).toBeUndefined();
  });
});

describe('sarcasticThanks', () => {
  it('finds thanks said with a sour note, and what the customer complains of', () => {
    expect(sarcasticThanks('great, another week without my parcel. thanks a lot 🙄')).toBe('another week without my parcel');
    expect(sarcasticThanks('grazie per niente')).toBe('');
    expect(sarcasticThanks('@bottegarossi grazie eh, come al solito in ritardo 🙄')).toBe('eh, come al solito in ritardo');
    expect(sarcasticThanks('thanks for nothing 🙄')).toBe('');
  });

  it('leaves plain thanks and happy messages alone', () => {
    for (const text of ['grazie mille!', 'thanks a lot 🙂', 'great, it arrived today, thanks!', 'ok grazie, a presto']) expect([text, sarcasticThanks(text)]).toEqual([text, undefined]);
  });
});
