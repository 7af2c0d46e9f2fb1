import { describe, expect, it } from '@jest/globals';
import type { FaqEntry } from '../../src/core/corpus.js';
import { asksForOrder, declinesSameOrder, meansSameOrder, ON_FILE_DAYS, onlySaysSame, orderOnFile, saysStillNotSorted } from '../../src/pipeline/order-on-file.js';
import { onlyAnnouncement, opensWithAnnouncement } from '../../src/pipeline/courtesy.js';

const now = new Date('2026-11-30T10:00:00Z');
const onFile = { kinds: ['order_number' as const], caseId: 'cs_old', at: '2026-11-24T10:00:00Z' };

describe('the order given in an earlier case', () => {
  it('is offered in private, in a later case, within the days it is kept', () => {
    expect(orderOnFile({ visibility: 'private', onFile }, 'cs_new', now)).toEqual(onFile);
  });
  it.each([
    ['in public', { visibility: 'public' as const, onFile }, 'cs_new', now],
    ['in the same case', { visibility: 'private' as const, onFile }, 'cs_old', now],
    ['when only an email was given', { visibility: 'private' as const, onFile: { ...onFile, kinds: ['email' as const] } }, 'cs_new', now],
    ['after the days it is kept', { visibility: 'private' as const, onFile }, 'cs_new', new Date(Date.parse(onFile.at) + (ON_FILE_DAYS + 1) * 86_400_000)],
    ['when none was given', { visibility: 'private' as const }, 'cs_new', now],
  ])('is not offered %s', (_why, conversation, caseId, at) => {
    expect(orderOnFile(conversation, caseId, at)).toBeUndefined();
  });

  const entry = (over: Partial<FaqEntry>): FaqEntry => ({ id: 'x', locale: 'it', questions: ['q'], answer: 'a', private: true, escalate: false, tags: [], ...over }) as FaqEntry;
  it('is offered by private entries that ask for an order number and a person checks it', () => {
    expect(asksForOrder(entry({ asks_for: ['order_number', 'email'] }))).toBe(true);
    expect(asksForOrder(entry({}))).toBe(true);
    expect(asksForOrder(entry({ asks_for: ['email'] }))).toBe(false);
    expect(asksForOrder(entry({ private: false }))).toBe(false);
    expect(asksForOrder(entry({ handler: 'order-status' }))).toBe(false);
    expect(asksForOrder(undefined)).toBe(false);
  });
});

describe('answers to «is it the same order?»', () => {
  it.each(['sì', 'si', 'Sì, lo stesso', 'sì grazie', 'esatto', 'yes', 'yes, same one', 'yep 👍'])('"%s" means that order when it was offered', (text) => {
    expect(meansSameOrder(text, true)).toBe(true);
  });
  it.each(['sì', 'yes', 'esatto'])('a bare "%s" means nothing of the kind when it was not offered', (text) => {
    expect(meansSameOrder(text, false)).toBe(false);
  });
  it.each(['è lo stesso ordine di prima', 'quello di prima', 'same order as before', "it's the same one"])('"%s" names it even unasked', (text) => {
    expect(meansSameOrder(text, false)).toBe(true);
  });
  it.each(['no', 'no, è un altro', 'nope, a different one', 'sì ma è un altro ordine', 'not the same one', 'si, ma il pacco del 3 dicembre è un ordine diverso'])('"%s" is not that order', (text) => {
    expect(meansSameOrder(text, true)).toBe(false);
  });
  it.each(['sì, lo stesso', 'Sì lo stesso di prima', 'quello di prima', '@bottegarossi sì, sempre lo stesso', 'yes, same one', 'yes same order as before', "it's the same one, thanks"])('"%s" says nothing but "the same one"', (text) => {
    expect(onlySaysSame(text)).toBe(true);
  });
  it.each(['sì', 'lo stesso vale per i saldi?', 'is the same size available in blue?', 'same problem as before with the zip', 'ho lo stesso problema di prima con la taglia'])('"%s" says more than "the same one"', (text) => {
    expect(onlySaysSame(text)).toBe(false);
  });
  it.each(['no', 'no, è un altro', 'un altro ordine', 'non è lo stesso', 'nope, a different one', 'another one'])('"%s" declines it', (text) => {
    expect(declinesSameOrder(text)).toBe(true);
  });
  it.each(['sì', 'lo stesso', 'non è ancora arrivato niente', 'non lo so', 'non so il numero, ce l’avete voi? è passata una settimana e ancora niente'])('"%s" does not decline it', (text) => {
    expect(declinesSameOrder(text)).toBe(false);
  });
});

describe('an announcement of a question', () => {
  it.each([
    ['ciao, domanda veloce', 'domanda veloce'],
    ['buongiorno! una domanda veloce', 'una domanda veloce'],
    ['hi there, quick question!', 'quick question'],
    ['@bottegarossi ciao, domanda veloce', 'domanda veloce'],
  ])('"%s" alone is the announcement "%s"', (text, announcement) => {
    expect(onlyAnnouncement(text)).toBe(announcement);
  });
  it.each(['ciao', 'ciao, domanda veloce: spedite in Svizzera?', 'quick delivery?'])('"%s" is not an announcement alone', (text) => {
    expect(onlyAnnouncement(text)).toBeUndefined();
  });
  it('opens a question, whose words are no part of it', () => {
    expect(opensWithAnnouncement('quick question: do you ship to Spain?')).toBe(true);
    expect(opensWithAnnouncement('ciao, domanda veloce, spedite in Svizzera?')).toBe(true);
    expect(opensWithAnnouncement('ciao, spedite in Svizzera?')).toBe(false);
    expect(opensWithAnnouncement('do you have quick delivery?')).toBe(false);
  });
});

describe('"still not sorted", soon after a person resolved the case', () => {
  it.each(['ancora niente', 'ancora nulla 🙄', 'niente ancora', 'il pacco non è ancora arrivato', 'ciao, ancora non si vede niente', 'still nothing', 'still nothing 🙄', 'nothing yet', "it still hasn't arrived", 'the parcel never arrived', 'still waiting!'])('"%s" says so', (text) => {
    expect(saysStillNotSorted(text)).toBe(true);
  });
  it.each(['grazie, tutto arrivato', 'posso pagare con paypal?', 'ancora una domanda', 'nothing else, thanks', 'ancora grazie!', 'is it still possible to return it?', 'a'.repeat(150) + ' ancora niente'])('"%s" does not', (text) => {
    expect(saysStillNotSorted(text)).toBe(false);
  });
});
