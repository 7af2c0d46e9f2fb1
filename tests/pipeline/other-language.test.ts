import { otherLanguage } from '../../src/pipeline/other-language.js';

describe('a message in a language the bot does not speak', () => {
  it.each(['Hola, ¿dónde está mi pedido?', 'Bonjour, où est ma commande ?', 'Hallo, wo ist meine Bestellung?', 'Olá, onde está a minha encomenda?'])('is recognised: %j', (text) => {
    expect(otherLanguage(text)).toBe(true);
  });

  it.each([
    "dov'è il mio ordine?",
    'where is my order?',
    'la mia carta non funziona',
    'quanto costa la spedizione in Germania?',
    'do you ship to Spain and Portugal?',
    'non voglio un bot, voglio una persona',
    'hola',
  ])('is not read into Italian or English, nor a single word: %j', (text) => {
    expect(otherLanguage(text)).toBe(false);
  });
});
