import { describe, expect, it } from '@jest/globals';
import { saysWrotePrivately } from '../../src/pipeline/private-channel.js';

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
