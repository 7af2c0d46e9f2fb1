import { answersWithCode, decide, type DecisionInput } from '../../src/pipeline/decide.js';
import type { DataKind, FaqEntry, IntentDef } from '../../src/core/corpus.js';
import type { Entity, Understanding } from '../../src/core/ports.js';

const rules = { vipFollowers: 100000, vipHandles: ['bigstar'], crisisKeywords: ['avvocato', 'class action'], angerThreshold: 0.6, missesBeforeEscalation: 2 };
const thresholds = { answer: 0.5, clarify: 0.2 };

const entry = (id: string, extra: Partial<FaqEntry> = {}): FaqEntry => ({
  id,
  locale: 'it',
  questions: ['q'],
  answer: 'a',
  private: false,
  escalate: false,
  tags: [],
  file: 'x.yaml',
  ...extra,
});
const intent = (name: string, action: IntentDef['action']): IntentDef => ({ name, locale: 'it', action, examples: ['x'], file: 'i.yaml' });

function understanding(extra: Partial<Understanding> = {}): Understanding {
  return { language: 'it', classification: { ranked: [{ label: 'faq:orari', confidence: 0.9 }] }, entities: [], sentiment: 0, anger: 0, ...extra };
}

function input(extra: Partial<DecisionInput> = {}): DecisionInput {
  return {
    state: 'bot',
    visibility: 'public',
    text: 'quali sono gli orari?',
    understanding: understanding(),
    top: { label: 'faq:orari', confidence: 0.9, entry: entry('orari') },
    missStreak: 0,
    carries: [],
    noticeDue: false,
    midConversation: false,
    customer: { handle: 'mario', followers: 10 },
    rules,
    thresholds,
    ...extra,
  };
}

const email: Entity = { kind: 'email', value: 'a@b.it', start: 0, end: 6, private: true };

describe('the decision table', () => {
  it('answers a confident FAQ match', () => {
    expect(decide(input())).toMatchObject({ action: 'answer', entry: { id: 'orari' } });
  });

  it('says nothing in public to a post heard without a mention where the platform forbids it: a person answers', () => {
    // A confident answer, private data, or waiting in the queue: no public word from the bot.
    expect(decide(input({ unaddressed: true }))).toEqual({ action: 'escalate', reason: 'unaddressed' });
    expect(decide(input({ unaddressed: true, understanding: understanding({ entities: [email] }) }))).toEqual({ action: 'escalate', reason: 'unaddressed' });
    expect(decide(input({ unaddressed: true, state: 'queued', noticeDue: true }))).toMatchObject({ action: 'silent' });
    expect(decide(input({ unaddressed: true, state: 'assigned' }))).toEqual({ action: 'silent' });
    // The same post addressed to the brand is answered as always.
    expect(decide(input({ unaddressed: false }))).toMatchObject({ action: 'answer' });
  });

  it('sends what it does not understand about an open spike to a person at once, and still answers what it knows', () => {
    const unknown = { top: { label: 'faq:orari', confidence: 0.1, entry: entry('orari') }, understanding: understanding({ classification: { ranked: [{ label: 'faq:orari', confidence: 0.1 }] } }) };
    expect(decide(input({ ...unknown, onSpike: true }))).toEqual({ action: 'escalate', reason: 'crisis' });
    expect(decide(input({ ...unknown }))).toMatchObject({ action: 'clarify' });
    expect(decide(input({ onSpike: true }))).toMatchObject({ action: 'answer', entry: { id: 'orari' } });
  });

  it('hands an entry with a handler to its custom action only where its data may be used', () => {
    const orders = entry('stato-ordine', { private: true, asks_for: ['order_number'], handler: 'order-status' });
    const top = { label: 'faq:stato-ordine', confidence: 0.9, entry: orders };
    const order: Entity = { kind: 'order_number', value: 'BR-1234567', start: 0, end: 10, private: true };
    // In public: a move to private (with the data posted: a warning), never the action.
    expect(decide(input({ top }))).toMatchObject({ action: 'dm_prompt' });
    expect(decide(input({ top, understanding: understanding({ entities: [order] }), carries: ['order_number'] }))).toEqual({ action: 'privacy_warning' });
    // In private: without the data the answer asks for it; with it, the action answers.
    expect(decide(input({ top, visibility: 'private' }))).toMatchObject({ action: 'answer' });
    expect(decide(input({ top, visibility: 'private', carries: ['order_number'] }))).toEqual({ action: 'handler', entry: orders });
    // A later message filling the request the entry made: the action, not a person.
    const later = { top: undefined, visibility: 'private' as const, carries: ['order_number' as const] };
    expect(decide(input({ ...later, dataRequest: { filled: true, entry: orders } }))).toEqual({ action: 'handler', entry: orders });
    expect(decide(input({ ...later, dataRequest: { filled: true, entry: entry('reso', { private: true }) } }))).toEqual({ action: 'escalate', reason: 'private_case' });
    expect(decide(input({ ...later, dataRequest: { filled: true } }))).toEqual({ action: 'escalate', reason: 'private_case' });
    // A public entry's action runs wherever it is asked; a request for a person still wins.
    const stock = entry('disponibilita', { handler: 'stock-check' });
    expect(decide(input({ top: { label: 'faq:disponibilita', confidence: 0.9, entry: stock } }))).toEqual({ action: 'handler', entry: stock });
    expect(decide(input({ top: { label: 'faq:disponibilita', confidence: 0.9, entry: stock }, text: 'chiamo il mio avvocato' }))).toEqual({ action: 'escalate', reason: 'crisis' });
  });

  it('stays silent while an operator holds the conversation; in the queue it tells the customer where they stand, at most once per interval', () => {
    expect(decide(input({ state: 'assigned' }))).toEqual({ action: 'silent' });
    expect(decide(input({ state: 'queued', text: 'aspetto' }))).toEqual({ action: 'silent', raise: undefined });
    expect(decide(input({ state: 'queued', text: 'aspetto', noticeDue: true }))).toEqual({ action: 'queue_notice', raise: undefined });
  });

  it('in the queue, answers a question the FAQ surely answers in public words (the case stays queued) and adds another to the request', () => {
    const queued = { state: 'queued' as const, visibility: 'private' as const, noticeDue: false };
    const sure = { label: 'faq:rimborso', confidence: 0.95, entry: entry('rimborso') };
    expect(decide(input({ ...queued, text: 'e quanto ci vuole per il rimborso?', top: sure }))).toEqual({ action: 'answer', entry: sure.entry });
    expect(decide(input({ ...queued, visibility: 'public', text: 'e quanto ci vuole per il rimborso?', top: sure }))).toEqual({ action: 'answer', entry: sure.entry });
    // Half sure, private, to a person, or with a custom action: added to the request (in private), silent in public.
    for (const top of [
      { ...sure, confidence: 0.7 },
      { ...sure, entry: entry('rimborso', { private: true }) },
      { ...sure, entry: entry('rimborso', { escalate: true }) },
      { ...sure, entry: entry('rimborso', { handler: 'refunds' }) },
    ]) {
      expect(decide(input({ ...queued, text: 'e quanto ci vuole per il rimborso?', top }))).toMatchObject({ action: 'queue_notice', received: true });
      expect(decide(input({ ...queued, visibility: 'public', text: 'e quanto ci vuole per il rimborso?', top }))).toMatchObject({ action: 'silent' });
    }
    // Not a question, or angry: as before (silent until a notice is due; the priority raised).
    expect(decide(input({ ...queued, text: 'il rimborso', top: sure }))).toMatchObject({ action: 'silent' });
    expect(decide(input({ ...queued, text: 'e il rimborso??? vergogna', top: sure, understanding: understanding({ anger: 0.9 }) }))).toEqual({ action: 'silent', raise: 'negative_sentiment' });
  });

  it('raises a waiting case for anger, crisis words or a VIP, and lets the customer leave the queue by saying it is solved', () => {
    const hot = understanding({ anger: 0.9 });
    expect(decide(input({ state: 'queued', understanding: hot }))).toEqual({ action: 'silent', raise: 'negative_sentiment' });
    expect(decide(input({ state: 'queued', noticeDue: true, text: 'chiamo il mio avvocato' }))).toEqual({ action: 'queue_notice', raise: 'crisis' });
    const solved = { label: 'intent:solved', confidence: 0.8, intent: intent('solved', 'resolve') };
    expect(decide(input({ state: 'queued', top: solved }))).toMatchObject({ action: 'thank', resolves: true });
    expect(decide(input({ state: 'bot', top: solved }))).toMatchObject({ action: 'thank', resolves: false });
  });

  it('warns about private data posted in public before anything else, but not in private', () => {
    expect(decide(input({ understanding: understanding({ entities: [email] }) }))).toEqual({ action: 'privacy_warning' });
    expect(decide(input({ visibility: 'private', understanding: understanding({ entities: [email] }) })).action).toBe('answer');
  });

  it('warns about private data posted in public and queues the case when the same post asks for a person', () => {
    const withEmail = understanding({ entities: [email] });
    expect(decide(input({ text: 'voglio parlare con una persona, la mia mail è x', understanding: withEmail }))).toEqual({ action: 'privacy_warning', thenEscalate: 'human_request' });
    // Anger alone: the move to a DM, as before (a person takes it there).
    expect(decide(input({ text: 'la mia mail è x', understanding: understanding({ entities: [email], anger: 0.9 }) }))).toEqual({ action: 'privacy_warning' });
    expect(decide(input({ text: 'la mia mail è x', understanding: withEmail }))).toEqual({ action: 'privacy_warning' });
  });

  it('moves a private FAQ to a DM when asked in public, and answers it in private', () => {
    const top = { label: 'faq:stato', confidence: 0.8, entry: entry('stato', { private: true }) };
    expect(decide(input({ top }))).toMatchObject({ action: 'dm_prompt', entry: { id: 'stato' } });
    expect(decide(input({ top, visibility: 'private' }))).toMatchObject({ action: 'answer', entry: { id: 'stato' } });
  });

  it('answers an escalate:true FAQ and then queues it with reason faq_escalate', () => {
    const top = { label: 'faq:rimborso', confidence: 0.8, entry: entry('rimborso', { escalate: true }) };
    expect(decide(input({ top }))).toMatchObject({ action: 'answer', thenEscalate: 'faq_escalate' });
  });

  it('escalates for crisis keywords, a request for a person, anger and VIPs, each with its reason', () => {
    expect(decide(input({ text: "chiamo l'Avvocato domani" }))).toEqual({ action: 'escalate', reason: 'crisis' });
    const human = { label: 'intent:human_request', confidence: 0.9, intent: intent('human_request', 'escalate') };
    expect(decide(input({ top: human }))).toEqual({ action: 'escalate', reason: 'human_request' });
    expect(decide(input({ understanding: understanding({ anger: 0.8 }) }))).toEqual({ action: 'escalate', reason: 'negative_sentiment' });
    expect(decide(input({ customer: { followers: 250000 } }))).toEqual({ action: 'escalate', reason: 'vip' });
    expect(decide(input({ customer: { handle: '@BigStar' } }))).toEqual({ action: 'escalate', reason: 'vip' });
  });

  it('does not escalate a request for a person the classifier is unsure of', () => {
    const human = { label: 'intent:human_request', confidence: 0.3, intent: intent('human_request', 'escalate') };
    expect(decide(input({ top: human })).action).toBe('clarify');
  });

  it('clarifies on the first miss and escalates the second miss in a row', () => {
    const unsure = { label: 'faq:orari', confidence: 0.3, entry: entry('orari') };
    const first = decide(input({ top: unsure }));
    expect(first.action).toBe('clarify');
    expect(first.action === 'clarify' && first.guesses.map((g) => g.label)).toEqual(['faq:orari']);
    expect(decide(input({ top: unsure, missStreak: 1 }))).toEqual({ action: 'escalate', reason: 'low_confidence' });
  });

  it('asks which option a bare "yes" to several meant, even after a miss, and not while a person holds the case', () => {
    expect(decide(input({ yesToOptions: true, top: undefined, missStreak: 1 }))).toEqual({ action: 'clarify', guesses: [], which: true });
    expect(decide(input({ yesToOptions: true, top: undefined, state: 'assigned' }))).toEqual({ action: 'silent' });
  });

  it('sends a private message carrying the requested data to a person, and handles any other as a new message', () => {
    const unsure = { label: 'faq:x', confidence: 0.1 };
    const order: Entity = { kind: 'order_number', value: 'BR-1200331', start: 15, end: 25, private: true };
    expect(decide(input({ visibility: 'private', dataRequest: { filled: true }, top: unsure, carries: ['order_number'], understanding: understanding({ entities: [order] }) }))).toEqual({
      action: 'escalate',
      reason: 'private_case',
    });
    // Not the data: a question the FAQ answers is answered, a greeting greeted, a miss clarified.
    expect(decide(input({ visibility: 'private', dataRequest: { filled: false } })).action).toBe('answer');
    const hi = { label: 'intent:greeting', confidence: 0.6, intent: intent('greeting', 'greet') };
    expect(decide(input({ visibility: 'private', dataRequest: { filled: false }, top: hi })).action).toBe('greet');
    expect(decide(input({ visibility: 'private', dataRequest: { filled: false }, top: unsure })).action).toBe('clarify');
  });

  it('while waiting in private for the data it asked for, says again what it needs instead of calling a message off topic; a second miss goes to a person', () => {
    const orders = entry('stato-ordine', { private: true, asks_for: ['order_number'] });
    const offTopic = { label: 'intent:off_topic', confidence: 0.8, intent: { ...intent('off_topic', 'answer'), answer: 'Su questo non posso aiutarti' } };
    const nothingPlausible = understanding({ classification: { ranked: [{ label: 'intent:off_topic', confidence: 0.8 }, { label: 'faq:orari', confidence: 0.05 }] } });
    const waiting = { visibility: 'private' as const, dataRequest: { filled: false, entry: orders }, understanding: nothingPlausible };
    // "è passata una settimana!" after "send me your order number".
    expect(decide(input({ ...waiting, top: offTopic }))).toEqual({ action: 'clarify', guesses: [], stillNeeded: ['order_number'] });
    // Not understood at all, nothing plausible: the same reminder.
    expect(decide(input({ ...waiting, top: { label: 'faq:orari', confidence: 0.05 } }))).toEqual({ action: 'clarify', guesses: [], stillNeeded: ['order_number'] });
    // A request that named no kind (an intent's DM prompt): the reminder asks for details.
    expect(decide(input({ ...waiting, dataRequest: { filled: false }, top: offTopic }))).toEqual({ action: 'clarify', guesses: [], stillNeeded: [] });
    expect(decide(input({ ...waiting, dataRequest: { filled: false, asks: ['customer_code'] }, top: offTopic }))).toEqual({ action: 'clarify', guesses: [], stillNeeded: ['customer_code'] });
    // The second miss in a row: a person.
    expect(decide(input({ ...waiting, top: offTopic, missStreak: 1 }))).toEqual({ action: 'escalate', reason: 'low_confidence' });
    // Without a request open, or in public, the off-topic answer as usual.
    expect(decide(input({ visibility: 'private', understanding: nothingPlausible, top: offTopic }))).toMatchObject({ action: 'intent_answer' });
    expect(decide(input({ ...waiting, visibility: 'public', top: offTopic }))).toMatchObject({ action: 'intent_answer' });
    // A plausible FAQ answer is still offered; small talk is still small talk.
    const plausible = understanding({ classification: { ranked: [{ label: 'intent:off_topic', confidence: 0.5 }, { label: 'faq:orari', confidence: 0.3 }] } });
    expect(decide(input({ ...waiting, understanding: plausible, top: offTopic }))).toMatchObject({ action: 'clarify', guesses: [{ label: 'faq:orari' }] });
    expect(decide(input({ ...waiting, understanding: plausible, top: offTopic }))).not.toHaveProperty('stillNeeded');
    const thanks = { label: 'intent:thanks', confidence: 0.9, intent: intent('thanks', 'thank') };
    expect(decide(input({ ...waiting, top: thanks })).action).toBe('thank');
    // Half understood as the very request being answered, beside another guess: the reminder, not the options.
    const halfSame = understanding({ classification: { ranked: [{ label: 'faq:rimborso', confidence: 0.34 }, { label: 'faq:stato-ordine', confidence: 0.3 }] } });
    expect(decide(input({ ...waiting, understanding: halfSame, top: { label: 'faq:rimborso', confidence: 0.34 } }))).toEqual({ action: 'clarify', guesses: [], stillNeeded: ['order_number'] });
  });

  it('sent to a DM, tells a customer who writes again in public where to go on, once; "vi seguo ora" is not a miss', () => {
    const waitingInPublic = { visibility: 'public' as const, state: 'awaiting_private' as const, top: { label: 'faq:orari', confidence: 0.05 }, understanding: understanding({ classification: { ranked: [{ label: 'faq:orari', confidence: 0.05 }] } }) };
    expect(decide(input({ ...waitingInPublic, text: '@bottegarossi allora?' }))).toEqual({ action: 'dm_prompt', again: true });
    expect(decide(input({ ...waitingInPublic, text: '@bottegarossi vi seguo ora' }))).toEqual({ action: 'dm_prompt', again: true, followed: true });
    expect(decide(input({ ...waitingInPublic, text: 'done, followed you', missStreak: 1 }))).toEqual({ action: 'dm_prompt', again: true, followed: true });
    // The second miss in a row: a person.
    expect(decide(input({ ...waitingInPublic, text: '???', missStreak: 1 }))).toEqual({ action: 'escalate', reason: 'low_confidence' });
    // A question it can answer is answered; in private, or not waiting, the usual clarify.
    expect(decide(input({ ...waitingInPublic, top: { label: 'faq:orari', confidence: 0.9, entry: entry('orari') }, understanding: understanding(), text: 'quali sono gli orari?' })).action).toBe('answer');
    expect(decide(input({ ...waitingInPublic, state: 'bot', text: 'allora?' })).action).toBe('clarify');
  });

  it('sends details given in private to the person who has the case from another conversation, and only then', () => {
    const unplaced = { visibility: 'private' as const, text: 'BR-448890', carries: ['order_number' as const], top: { label: 'faq:orari', confidence: 0.05 }, understanding: understanding({ classification: { ranked: [{ label: 'faq:orari', confidence: 0.05 }] } }) };
    expect(decide(input({ ...unplaced, caseWithPerson: true }))).toEqual({ action: 'escalate', reason: 'private_case' });
    // No person on the case (a request that ran out): a new message, as before.
    expect(decide(input(unplaced)).action).toBe('clarify');
    // Nothing of the customer's in it: not a handover.
    expect(decide(input({ ...unplaced, carries: [], caseWithPerson: true })).action).toBe('clarify');
  });

  it('tells a customer writing in public that the case is with a person in the DM, once a notice interval, never queueing it twice', () => {
    const unplaced = { state: 'awaiting_private' as const, text: 'vi ho scritto in dm', caseWithPerson: true, top: { label: 'faq:orari', confidence: 0.05 }, understanding: understanding({ classification: { ranked: [{ label: 'faq:orari', confidence: 0.05 }] } }) };
    expect(decide(input({ ...unplaced, noticeDue: true }))).toEqual({ action: 'queue_notice', elsewhere: true });
    expect(decide(input({ ...unplaced, noticeDue: false }))).toEqual({ action: 'silent' });
    // A second miss is not a second escalation; a request for a person neither.
    expect(decide(input({ ...unplaced, noticeDue: true, missStreak: 1 }))).toEqual({ action: 'queue_notice', elsewhere: true });
    const person = { label: 'intent:human_request', confidence: 0.95, intent: intent('human_request', 'escalate') };
    expect(decide(input({ ...unplaced, noticeDue: true, text: 'voglio un operatore', top: person, understanding: understanding({ classification: { ranked: [person] } }) }))).toEqual({ action: 'queue_notice', elsewhere: true });
    // A private request again in public: not a new DM prompt.
    expect(decide(input({ ...unplaced, noticeDue: true, top: { label: 'faq:stato', confidence: 0.9, entry: entry('stato', { private: true }) } }))).toEqual({ action: 'queue_notice', elsewhere: true });
    // A plain question is answered; without a person on the case, the usual path.
    expect(decide(input({ ...unplaced, top: { label: 'faq:orari', confidence: 0.9, entry: entry('orari') }, understanding: understanding() })).action).toBe('answer');
    expect(decide(input({ ...unplaced, caseWithPerson: false })).action).not.toBe('queue_notice');
  });

  it('acknowledges details or a file sent in private while waiting in the queue, and stays silent otherwise until a notice is due', () => {
    const queued = { state: 'queued' as const, visibility: 'private' as const, noticeDue: false };
    expect(decide(input({ ...queued, text: 'ecco il numero BR-334455', carries: ['order_number'] }))).toMatchObject({ action: 'queue_notice', received: true });
    expect(decide(input({ ...queued, text: '[image: https://x/y.jpg]', attachment: true }))).toMatchObject({ action: 'queue_notice', received: true });
    expect(decide(input({ ...queued, text: 'ci siete?', top: { label: 'intent:anyone_there', confidence: 1, intent: intent('anyone_there', 'greet') } }))).toMatchObject({ action: 'silent' });
    // In public, private data is warned about instead.
    expect(decide(input({ ...queued, visibility: 'public', carries: ['email'], understanding: understanding({ entities: [email] }) }))).toEqual({ action: 'privacy_warning' });
  });

  it('asks which when a second FAQ answer is nearly as likely as the first (both offered), and answers a clear reading', () => {
    const ranked = [{ label: 'faq:rifiutato', confidence: 0.58 }, { label: 'faq:rate', confidence: 0.33 }];
    const top = { ...ranked[0]!, entry: entry('rifiutato') };
    expect(decide(input({ visibility: 'private', text: 'pagamento', top, understanding: understanding({ classification: { ranked } }) }))).toEqual({ action: 'clarify', guesses: ranked });
    // A second miss in a row: a person.
    expect(decide(input({ visibility: 'private', text: 'pagamento', top, missStreak: 1, understanding: understanding({ classification: { ranked } }) }))).toEqual({ action: 'escalate', reason: 'low_confidence' });
    const clear = [{ label: 'faq:rifiutato', confidence: 0.8 }, { label: 'faq:rate', confidence: 0.3 }];
    expect(decide(input({ visibility: 'private', text: 'la carta non passa', top: { ...clear[0]!, entry: entry('rifiutato') }, understanding: understanding({ classification: { ranked: clear } }) })).action).toBe('answer');
  });

  it('takes a statement while data is awaited as context when the entry it reads is only ever asked about, however sure', () => {
    const asked = entry('metodi', { locale: 'en', questions: ['can I pay with PayPal?', 'which cards do you take?', 'do you accept Satispay?'] });
    const waiting = { visibility: 'private' as const, state: 'bot' as const, dataRequest: { filled: false, entry: entry('stato', { private: true, asks_for: ['order_number'] }) } };
    const sure = [{ label: 'faq:metodi', confidence: 0.95 }];
    const said = decide(input({ ...waiting, text: 'I paid with PayPal', top: { ...sure[0]!, entry: asked }, understanding: understanding({ language: 'en', classification: { ranked: sure } }) }));
    expect(said).toMatchObject({ action: 'clarify', stillNeeded: ['order_number'] });
    // Asked, it is answered; a report of a problem read surely is answered too.
    expect(decide(input({ ...waiting, text: 'can I pay with PayPal?', top: { ...sure[0]!, entry: asked }, understanding: understanding({ language: 'en', classification: { ranked: sure } }) })).action).toBe('answer');
    const report = entry('rotto', { questions: ['il pacco è arrivato rotto', 'la merce è danneggiata'] });
    expect(decide(input({ ...waiting, text: 'il pacco è arrivato rotto', top: { label: 'faq:rotto', confidence: 0.99, entry: report }, understanding: understanding({ classification: { ranked: [{ label: 'faq:rotto', confidence: 0.99 }] } }) })).action).toBe('answer');
  });

  it('stays silent at acknowledgements only and thanks thanks, where no intent of the corpus placed them; never a miss', () => {
    const unplaced = { top: { label: 'faq:orari', confidence: 0.1 }, missStreak: 1 };
    expect(decide(input({ ...unplaced, text: 'ok cool' }))).toEqual({ action: 'none' });
    expect(decide(input({ ...unplaced, text: 'va bene, perfetto grazie' }))).toEqual({ action: 'thank', resolves: false });
    // An intent the corpus has still decides ("ok" as the sample's acknowledgement; greetings).
    const hi = { label: 'intent:greeting', confidence: 0.9, intent: intent('greeting', 'greet') };
    expect(decide(input({ text: 'ok ciao', top: hi })).action).toBe('greet');
    // Anything more is not a courtesy.
    expect(decide(input({ ...unplaced, missStreak: 0, text: 'ok ma quando?' })).action).toBe('clarify');
  });

  it('thanks praise nothing else placed, and not a warm question or request', () => {
    const offTopic = { label: 'intent:off_topic', confidence: 0.7, intent: { ...intent('off_topic', 'answer'), answer: 'Su questo non posso aiutarti' } };
    const warm = (text: string, language: 'it' | 'en' = 'it', extra: Partial<Understanding> = {}) =>
      input({ text, top: offTopic, understanding: understanding({ language, sentiment: 0.76, classification: { ranked: [{ label: 'intent:off_topic', confidence: 0.7 }] }, ...extra }) });
    expect(decide(warm('ottimo servizio, pacco arrivato in un giorno! grazie'))).toEqual({ action: 'thank', resolves: false, praise: true });
    expect(decide(warm('love your shoes ❤️', 'en'))).toEqual({ action: 'thank', resolves: false, praise: true });
    // Unplaced too: thanks, not "please rephrase".
    expect(decide({ ...warm('siete fantastici'), top: { label: 'faq:orari', confidence: 0.1 } })).toEqual({ action: 'thank', resolves: false, praise: true });
    // A question, a request, lukewarm words, anger or private data: not praise.
    expect(decide(warm('vorrei sapere se avete le scarpe rosse, sono bellissime')).action).not.toBe('thank');
    expect(decide(warm('bellissime! arrivano anche in rosso?')).action).not.toBe('thank');
    expect(decide(warm('great shoes, can you ship them to Malta', 'en')).action).not.toBe('thank');
    // Accented words count as words ("c'è", "può", "perché").
    expect(decide(warm("bellissime, c'è anche in blu")).action).not.toBe('thank');
    expect(decide(warm('stupende, si può avere la 38')).action).not.toBe('thank');
    expect(decide(warm('ok', 'it', { sentiment: 0.1 })).action).not.toBe('thank');
    expect(decide(warm('fantastico', 'it', { anger: 0.5 })).action).not.toBe('thank');
    // Sarcasm: warm words beside a complaint.
    expect(decide(warm('ottimo, ancora nessuna risposta')).action).not.toBe('thank');
    expect(decide(warm('great, late again 🙄', 'en')).action).not.toBe('thank');
    expect(decide(warm("lovely, it didn't arrive", 'en')).action).not.toBe('thank');
    // Praise read half-surely as an entry is praise; a sure reading is still the answer.
    const leaning = { label: 'faq:damaged-parcel', confidence: 0.64, entry: entry('damaged-parcel', { escalate: true }) };
    expect(decide(input({ text: 'great service, my parcel arrived in one day!', top: leaning, understanding: understanding({ language: 'en', sentiment: 0.8 }) }))).toEqual({ action: 'thank', resolves: false, praise: true });
    // However sure the words alone ("love the new collection!": click and collect at 0.93); only an
    // FAQ question word for word is answered.
    expect(decide(input({ text: 'great service, my parcel arrived in one day!', top: { ...leaning, confidence: 0.95 }, understanding: understanding({ language: 'en', sentiment: 0.8 }) }))).toEqual({ action: 'thank', resolves: false, praise: true });
    expect(decide(input({ text: 'great service, my parcel arrived in one day!', top: { ...leaning, confidence: 1 }, understanding: understanding({ language: 'en', sentiment: 0.8 }) })).action).toBe('answer');
    // A confident FAQ answer is still the answer.
    expect(decide(input({ text: 'ottimi gli orari, quali sono?', understanding: understanding({ sentiment: 0.8 }) })).action).toBe('answer');
  });

  it('hands a private request to a person when the customer says they do not have the data, and asks for what is missing when the same request comes again', () => {
    const orders = entry('stato-ordine', { private: true, asks_for: ['order_number'] });
    const waiting = { visibility: 'private' as const, dataRequest: { filled: false, entry: orders } };
    const product = { label: 'faq:disponibilita', confidence: 0.7, entry: entry('disponibilita') };
    for (const text of ['non lo trovo', "non ce l'ho", "non ce l'ho il numero", "non ce l'ho il numero d'ordine sotto mano", "l'ho perso, mi dispiace", 'non ho più la mail di conferma']) {
      expect(decide(input({ ...waiting, text, top: product }))).toEqual({ action: 'escalate', reason: 'private_case', withoutData: true });
    }
    for (const text of ["I can't find the order number", "I don't have it", 'lost it sorry']) {
      expect(decide(input({ ...waiting, text, understanding: understanding({ language: 'en' }), top: product }))).toEqual({ action: 'escalate', reason: 'private_case', withoutData: true });
    }
    // Telling the story is not saying the data is missing; nor is it, with no request open or in public.
    // (Told while the data is awaited, and read only half-surely as another entry, the story is context: the reminder.)
    expect(decide(input({ ...waiting, text: "non l'ho ricevuto, aspetto da una settimana", top: product }))).toEqual({ action: 'clarify', guesses: [], stillNeeded: ['order_number'] });
    expect(decide(input({ visibility: 'private', text: 'non lo trovo', top: product })).action).toBe('answer');
    expect(decide(input({ ...waiting, visibility: 'public', text: 'non lo trovo', top: product })).action).toBe('answer');
    // The same request again without its data ("il nuovo indirizzo è via Roma 12"): what is still missing, then a person.
    const same = { label: 'faq:stato-ordine', confidence: 0.8, entry: orders };
    expect(decide(input({ ...waiting, text: 'il nuovo indirizzo è via Roma 12', top: same }))).toEqual({ action: 'clarify', guesses: [], stillNeeded: ['order_number'] });
    expect(decide(input({ ...waiting, text: 'il nuovo indirizzo è via Roma 12', top: same, missStreak: 1 }))).toEqual({ action: 'escalate', reason: 'low_confidence' });
  });

  it('asks about a follow-up of the last answer that names nothing ("e in L?") instead of calling it off topic', () => {
    const offTopic = { label: 'intent:off_topic', confidence: 0.75, intent: { ...intent('off_topic', 'answer'), answer: 'Su questo non posso aiutarti' } };
    const nothingPlausible = understanding({ classification: { ranked: [{ label: 'intent:off_topic', confidence: 0.75 }] } });
    expect(decide(input({ understanding: nothingPlausible, top: offTopic, followUp: true }))).toEqual({ action: 'clarify', guesses: [] });
    expect(decide(input({ understanding: nothingPlausible, top: offTopic, followUp: true, missStreak: 1 }))).toEqual({ action: 'escalate', reason: 'low_confidence' });
    expect(decide(input({ understanding: nothingPlausible, top: offTopic }))).toMatchObject({ action: 'intent_answer' });
  });

  it('answers nothing to emoji alone, and does not count it as a miss; anger still goes to a person', () => {
    const unsure = { label: 'faq:x', confidence: 0.1 };
    expect(decide(input({ text: '👍', top: unsure, missStreak: 1, understanding: understanding({ classification: { ranked: [] } }) }))).toEqual({ action: 'none' });
    expect(decide(input({ text: '❤️ ❤️', top: unsure, understanding: understanding({ classification: { ranked: [] } }) }))).toEqual({ action: 'none' });
    expect(decide(input({ text: '😡😡😡', top: unsure, understanding: understanding({ classification: { ranked: [] }, anger: 0.9 }) }))).toEqual({ action: 'escalate', reason: 'negative_sentiment' });
    // Punctuation alone is not emoji: unsure, it is asked about.
    expect(decide(input({ text: '?', top: unsure, understanding: understanding({ classification: { ranked: [] } }) })).action).toBe('clarify');
  });

  it('does not ask again for data given with the question', () => {
    const top = { label: 'faq:stato', confidence: 0.8, entry: entry('stato', { private: true, asks_for: ['customer_code'] }) };
    expect(decide(input({ visibility: 'private', top, carries: ['customer_code'] }))).toEqual({ action: 'escalate', reason: 'private_case' });
    // Other data than the entry asks for: the answer asks for what it needs.
    expect(decide(input({ visibility: 'private', top, carries: ['email'] })).action).toBe('answer');
  });

  it('while waiting for data, takes a statement half-read as another entry for context, and still answers questions and sure readings', () => {
    const orders = entry('order-status', { private: true, asks_for: ['order_number'] });
    const waiting = { visibility: 'private' as const, dataRequest: { filled: false, entry: orders }, understanding: understanding({ language: 'en' }) };
    const payments = { label: 'faq:payment-methods', confidence: 0.87, entry: entry('payment-methods') };
    expect(decide(input({ ...waiting, text: 'I paid with paypal', top: payments }))).toEqual({ action: 'clarify', guesses: [], stillNeeded: ['order_number'] });
    // A miss: the second in a row brings a person.
    expect(decide(input({ ...waiting, text: 'I paid with paypal', top: payments, missStreak: 1 }))).toEqual({ action: 'escalate', reason: 'low_confidence' });
    // A question is answered; so is a sure reading, and anything with no data awaited.
    expect(decide(input({ ...waiting, text: 'can I pay with paypal?', top: payments })).action).toBe('answer');
    expect(decide(input({ ...waiting, text: 'I was charged twice', top: { ...payments, confidence: 0.99 } })).action).toBe('answer');
    expect(decide(input({ visibility: 'private', text: 'I paid with paypal', top: payments, understanding: understanding({ language: 'en' }) })).action).toBe('answer');
    // Half read as other entries (below the answer threshold): the reminder too, not options it did not ask about.
    const halfRanked = [{ label: 'faq:opening-hours', confidence: 0.41 }, { label: 'faq:cancel-order', confidence: 0.3 }];
    const half = { ...waiting, text: 'I placed it an hour ago', top: { label: 'faq:opening-hours', confidence: 0.41 }, understanding: understanding({ language: 'en', classification: { ranked: halfRanked } }) };
    expect(decide(input(half))).toEqual({ action: 'clarify', guesses: [], stillNeeded: ['order_number'] });
    // A question half understood is asked about, with its options.
    expect(decide(input({ ...half, text: 'can I cancel it?' }))).toMatchObject({ action: 'clarify', guesses: halfRanked });
  });

  it("sends the customer's details to the person who has the case, whatever courtesy carries them", () => {
    const thanks = { label: 'intent:thanks', confidence: 0.95, intent: intent('thanks', 'thank') };
    const order: Entity = { kind: 'order_number', value: 'BR-778812', start: 13, end: 22, private: true };
    const withOrder = understanding({ language: 'en', entities: [order] });
    expect(decide(input({ visibility: 'private', text: "thanks, it's BR-778812", top: thanks, carries: ['order_number'], caseWithPerson: true, understanding: withOrder }))).toEqual({
      action: 'escalate',
      reason: 'private_case',
    });
    // Nobody on the case: thanked as before.
    expect(decide(input({ visibility: 'private', text: "thanks, it's BR-778812", top: thanks, carries: ['order_number'], understanding: withOrder })).action).toBe('thank');
  });

  it('hands an upset message it does not understand to a person instead of asking to rephrase it', () => {
    const unsure = { label: 'intent:off_topic', confidence: 0.38 };
    const upset = understanding({ anger: 0.5, sentiment: -0.85 });
    expect(decide(input({ text: 'siete dei ladri, rivoglio i miei soldi', top: unsure, understanding: upset }))).toEqual({ action: 'escalate', reason: 'negative_sentiment' });
    // Calm, or merely negative: asked what was meant.
    expect(decide(input({ text: 'ma vi sembra normale?', top: unsure, understanding: understanding({ anger: 0.2, sentiment: -0.4 }) })).action).toBe('clarify');
    // Understood: answered (row 3 decides above the threshold).
    expect(decide(input({ text: 'siete dei ladri, dov è il mio ordine?', understanding: upset })).action).toBe('answer');
  });

  it('greets once: a greeting in the middle of a conversation is not a welcome', () => {
    const hi = { label: 'intent:greeting', confidence: 0.9, intent: intent('greeting', 'greet') };
    expect(decide(input({ top: hi }))).toMatchObject({ action: 'greet', again: false });
    expect(decide(input({ top: hi, midConversation: true }))).toMatchObject({ action: 'greet', again: true });
  });

  it('a greeting while the bot waits is no new start: the data still needed (not a miss), or the DM prompt again (a miss)', () => {
    const hi = { label: 'intent:greeting', confidence: 0.9, intent: intent('greeting', 'greet') };
    const asked = { filled: false, asks: ['order_number'] as DataKind[] };
    expect(decide(input({ visibility: 'private', top: hi, midConversation: true, dataRequest: asked }))).toEqual({
      action: 'clarify',
      guesses: [],
      stillNeeded: ['order_number'],
      greeted: true,
    });
    expect(decide(input({ visibility: 'public', state: 'awaiting_private', top: hi, midConversation: true }))).toEqual({ action: 'dm_prompt', again: true });
    // The second miss in a row brings a person.
    expect(decide(input({ visibility: 'public', state: 'awaiting_private', top: hi, midConversation: true, missStreak: 1 })).action).toBe('escalate');
    // A first message is welcomed as ever.
    expect(decide(input({ visibility: 'private', top: hi, dataRequest: asked })).action).toBe('greet');
  });

  it('offers only FAQ answers above the floor when it clarifies', () => {
    const ranked = [
      { label: 'intent:greeting', confidence: 0.3 },
      { label: 'faq:orari', confidence: 0.25 },
      { label: 'faq:privacy', confidence: 0.1 },
    ];
    const d = decide(input({ top: { label: 'intent:greeting', confidence: 0.3 }, understanding: understanding({ classification: { ranked } }) }));
    expect(d.action === 'clarify' && d.guesses.map((g) => g.label)).toEqual(['faq:orari']);
  });

  it('lets an intent that answers itself (off topic) yield to a plausible FAQ answer: it asks which', () => {
    const offTopic = { label: 'intent:off_topic', confidence: 0.61, intent: { ...intent('off_topic', 'answer'), answer: 'Posso aiutarti con ordini, spedizioni e resi.' } };
    const withShipping = understanding({ classification: { ranked: [{ label: 'intent:off_topic', confidence: 0.61 }, { label: 'faq:spedizione', confidence: 0.27 }] } });
    expect(decide(input({ top: offTopic, understanding: withShipping }))).toEqual({ action: 'clarify', guesses: [{ label: 'faq:spedizione', confidence: 0.27 }] });
    // A second miss in a row still goes to a person.
    expect(decide(input({ top: offTopic, understanding: withShipping, missStreak: 1 }))).toEqual({ action: 'escalate', reason: 'low_confidence' });
    // Nothing plausible in the FAQ: the intent answers.
    const alone = understanding({ classification: { ranked: [{ label: 'intent:off_topic', confidence: 0.61 }, { label: 'faq:spedizione', confidence: 0.05 }] } });
    expect(decide(input({ top: offTopic, understanding: alone })).action).toBe('intent_answer');
    // An unsure reading leaves the rest to the FAQ: an entry is weighed against that rest ("che
    // tempo ci vuole per la consegna?": off topic 0.74, shipping 0.19 of the 0.26 left).
    const unsure = { ...offTopic, confidence: 0.74 };
    const weather = understanding({ classification: { ranked: [{ label: 'intent:off_topic', confidence: 0.74 }, { label: 'faq:spedizione', confidence: 0.19 }] } });
    expect(decide(input({ top: unsure, understanding: weather }))).toEqual({ action: 'clarify', guesses: [{ label: 'faq:spedizione', confidence: 0.19 }] });
    // Sure of it (0.9 and up), the FAQ needs the clarify threshold as ever.
    const sure = { ...offTopic, confidence: 0.95 };
    const sureWeather = understanding({ classification: { ranked: [{ label: 'intent:off_topic', confidence: 0.95 }, { label: 'faq:spedizione', confidence: 0.19 }] } });
    expect(decide(input({ top: sure, understanding: sureWeather })).action).toBe('intent_answer');
  });

  it('does not give the same answer again to a follow-up it does not cover, read alone half as that answer', () => {
    const shipping = { label: 'faq:spedizione', confidence: 0.51, entry: entry('spedizione') };
    // "e per la svizera?" after the part about Switzerland: the answer says nothing more.
    expect(decide(input({ top: shipping, beyondAnswer: true, sameAsLastAnswer: true }))).toEqual({ action: 'clarify', guesses: [], beyondAnswer: true });
    expect(decide(input({ top: shipping, beyondAnswer: true, sameAsLastAnswer: true, missStreak: 1 }))).toEqual({ action: 'escalate', reason: 'low_confidence' });
    // Sure of it, or another answer than the last: answered.
    expect(decide(input({ top: { ...shipping, confidence: 0.95 }, beyondAnswer: true, sameAsLastAnswer: true })).action).toBe('answer');
    expect(decide(input({ top: shipping, beyondAnswer: true, sameAsLastAnswer: false })).action).toBe('answer');
  });

  it('asks which answer is meant for a word alone when another answer about it is plausible ("pagamento")', () => {
    const declined = entry('pagamento-rifiutato');
    const top = { label: 'faq:pagamento-rifiutato', confidence: 0.64, entry: declined };
    const ranked = understanding({ classification: { ranked: [{ label: 'faq:pagamento-rifiutato', confidence: 0.64 }, { label: 'faq:pagamento-a-rate', confidence: 0.31 }] } });
    expect(decide(input({ text: 'pagamento', top, understanding: ranked }))).toEqual({
      action: 'clarify',
      guesses: [
        { label: 'faq:pagamento-rifiutato', confidence: 0.64 },
        { label: 'faq:pagamento-a-rate', confidence: 0.31 },
      ],
    });
    // The same reading of a question with more words in it is answered (0.31 < half of 0.64).
    expect(decide(input({ text: 'il pagamento non va', top, understanding: ranked })).action).toBe('answer');
  });

  it('handles small talk by intent', () => {
    expect(decide(input({ top: { label: 'intent:greeting', confidence: 0.9, intent: intent('greeting', 'greet') } })).action).toBe('greet');
    expect(decide(input({ top: { label: 'intent:thanks', confidence: 0.9, intent: intent('thanks', 'thank') } })).action).toBe('thank');
    expect(decide(input({ top: { label: 'intent:order', confidence: 0.9, intent: intent('order_status', 'dm_prompt') } })).action).toBe('dm_prompt');
  });
});

describe('answersWithCode: a code typed without the brand format answers a request for an order number', () => {
  it.each([
    ['12345678', undefined],
    ['ecco: 12345678', ['order_number']],
    ["sure, it's 77-100234", ['order_number']],
    ['AB12345', ['customer_code']],
    ['il numero è 4455889', []],
  ] as const)('%s (asks %j) answers', (text, asks) => {
    expect(answersWithCode(text, [], asks as never)).toBe(true);
  });

  it.each([
    ['12345678', ['email']],
    ['1234', undefined],
    ['12/03/2024', undefined],
    ['12345678 e 87654321', undefined],
    ['quanto costa la spedizione per il codice postale 20121 in tutta la zona?', undefined],
    ['ciao', undefined],
  ] as const)('%s (asks %j) does not', (text, asks) => {
    expect(answersWithCode(text, [], asks as never)).toBe(false);
  });

  it('leaves out what entity detection already found (a phone is not the order number)', () => {
    const text = 'il mio cell è 3471234567';
    expect(answersWithCode(text, [{ start: 14, end: 24 }], ['order_number'])).toBe(false);
    expect(answersWithCode(text, [], ['order_number'])).toBe(true);
  });

  it('takes a code found as the other kind of code ("ecco il numero 12345678": a customer code by the word "numero")', () => {
    expect(answersWithCode('ecco il numero 12345678', [{ start: 15, end: 23, kind: 'customer_code' }], ['order_number', 'email'])).toBe(true);
    expect(answersWithCode('ecco la mail a@b.it', [{ start: 13, end: 19, kind: 'email' }], ['order_number'])).toBe(false);
  });
});

describe('the order of an earlier case, offered back in private (pipeline/order-on-file.ts)', () => {
  const asking = entry('stato-ordine', { private: true, asks_for: ['order_number'], handler: 'order-status' });
  const noLabel = { understanding: understanding({ classification: { ranked: [] } }), top: undefined };
  it('"sì, lo stesso" goes to a person, not to the custom action (it would want the number)', () => {
    const d = decide(input({ ...noLabel, visibility: 'private', text: 'sì, lo stesso', dataRequest: { filled: false, entry: asking, asks: ['order_number'], sameAsBefore: true } }));
    expect(d).toEqual({ action: 'escalate', reason: 'private_case', sameAsBefore: true });
  });
  it('"no, un altro" is asked for the other number, not counted as a miss', () => {
    const d = decide(input({ ...noLabel, visibility: 'private', text: 'no, un altro', dataRequest: { filled: false, entry: asking, asks: ['order_number'], declinedOnFile: true } }));
    expect(d).toEqual({ action: 'clarify', guesses: [], stillNeeded: ['order_number'], declined: true });
  });
  it('"no, non lo trovo" is a customer without the number: a person, not the same question again', () => {
    const d = decide(input({ ...noLabel, visibility: 'private', text: 'no, non lo trovo', dataRequest: { filled: false, entry: asking, asks: ['order_number'], declinedOnFile: true } }));
    expect(d).toEqual({ action: 'escalate', reason: 'private_case', withoutData: true });
  });
  it('the number itself wins over the offer', () => {
    const d = decide(input({ ...noLabel, visibility: 'private', text: 'no, è BR-5566778', carries: ['order_number'], dataRequest: { filled: true, entry: entry('x', { private: true }), asks: ['order_number'], declinedOnFile: true } }));
    expect(d).toEqual({ action: 'escalate', reason: 'private_case' });
  });
  it('never in public', () => {
    expect(decide(input({ ...noLabel, text: 'sì, lo stesso', dataRequest: { filled: false, entry: asking, sameAsBefore: true } })).action).not.toBe('escalate');
  });
});

describe('"ancora niente" soon after a person resolved the case', () => {
  it('goes back to a person in private, whatever FAQ entry the words lean on', () => {
    const top = { label: 'faq:rimborso-ritardo', confidence: 0.7, entry: entry('rimborso-ritardo', { escalate: true }) };
    expect(decide(input({ top, visibility: 'private', text: 'ancora niente', continuesCase: true }))).toEqual({ action: 'escalate', reason: 'private_case', continues: true });
    expect(decide(input({ top, visibility: 'private', text: 'ancora niente' }))).toMatchObject({ action: 'answer', entry: { id: 'rimborso-ritardo' } });
  });
  it('a person who holds the conversation is not talked over', () => {
    expect(decide(input({ state: 'assigned', visibility: 'private', text: 'ancora niente', continuesCase: true }))).toEqual({ action: 'silent' });
  });
});
