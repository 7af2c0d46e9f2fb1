import { describe, expect, it } from '@jest/globals';
import { apologyOf, saysWrotePrivately } from '../../src/pipeline/private-channel.js';

describe('a public message saying the customer wrote in private', () => {
  it.each([
    '@bottegarossi vi ho scritto in DM',
    'ti ho mandato un messaggio privato',
    'vi ho già scritto in privato',
    'controllate i DM',
    '@bottegarossi I sent you a DM',
    'I DMed you',
    "I dm'd you an hour ago",
    'check your DMs please',
    'I sent you a private message',
    'I have sent you a direct message',
    'sent you a DM',
  ])('"%s" says so', (text) => {
    expect(saysWrotePrivately(text)).toBe(true);
  });

  it.each(['I sent you an email', 'I wrote to you yesterday', 'vi ho scritto ieri', 'can I send you a DM?', 'send me a DM', 'ho scritto una recensione', 'I sent you the photo', 'scrivetemi in privato'])('"%s" does not', (text) => {
    expect(saysWrotePrivately(text)).toBe(false);
  });
});

describe('the apology an FAQ answer opens with', () => {
  it.each([
    ["Scusaci per l'errore! Scrivici qui il numero d'ordine.", "Scusaci per l'errore!"],
    ['Ci dispiace molto! Mandaci qui il numero.', 'Ci dispiace molto!'],
    ["We're so sorry! Send us your order number.", "We're so sorry!"],
    ['Sorry about that! Try reloading the page.', 'Sorry about that!'],
  ])('"%s" opens with "%s"', (answer, apology) => {
    expect(apologyOf(answer)).toBe(apology);
  });

  it.each(["Per controllare il tuo ordine mi serve il numero d'ordine.", 'Yes, we ship to Switzerland.', 'Scusate il ritardo nella risposta, abbiamo molte richieste in questi giorni e vi risponderemo appena possibile.'])('"%s" opens with none', (answer) => {
    expect(apologyOf(answer)).toBeUndefined();
  });
});
