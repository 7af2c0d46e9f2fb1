/**
 * @module pipeline/understanding-refine
 * The second step of a customer's turn (turn-plan.ts): what the message means, read again where
 * the whole text misleads the classifier. A choice typed among the options offered, thanks or a
 * greeting that open a message with more to say, an announcement of a question, a short follow-up
 * of the bot's last answer: each is understood from the part of the text that carries it.
 */
import type { Corpus } from '../core/corpus.js';
import type { LabelScore, Understanding } from '../core/ports.js';
import type { Conversation, InboundMessage, Language } from '../core/types.js';
import { afterCourtesy, afterGreeting, onlyAnnouncement, onlyMentions, opensWithAnnouncement, pointOf, sarcasticThanks, withoutMentions } from './courtesy.js';
import { answerPart, asksAboutNothing, asksNextStep, asksOnlyAboutIt, FOLLOW_UP_MINUTES, followUpAnswers, followUpContext, usesIt } from './follow-up-question.js';
import { bestIntentAction, isLabel, resolveLabel } from './labels.js';
import { typedChoice, yesToSeveral } from './offered-choice.js';
import { ORDER_QUESTION, asksAboutGivenOrder, givenOrderOnItsWay, onlyOrderReference, withoutData } from './order-reference.js';
import { BACK_GREETING, CALL, onlyQuestionMarks, onlySaysBack } from './returning.js';

/** What the refining reads besides the conversation. */
export interface RefineInput {
  msg: InboundMessage;
  now: Date;
  knowledge: { corpus: Corpus };
  understand(previousLanguage: Language | undefined): Promise<Understanding>;
  understandText(text: string, language: Language): Promise<Understanding>;
}

/** The message understood, and how. */
export interface RefinedUnderstanding {
  understanding: Understanding;
  /** The label the customer picked: a quick-reply payload, or a choice typed among the options offered. */
  chosen?: string;
  /** A bare "yes" to several options offered, not asked about yet: the bot asks which. */
  yesToOptions: boolean;
  /** The question answered last, when the message was read as a short follow-up of it. */
  leansOn?: string;
  /**
   * A follow-up that names something of its own ("e per i saldi?", "and to Japan?") and, read with
   * the question answered last, found only that answer again, which says nothing of it.
   */
  beyondAnswer?: true;
  /** The same answer again to a follow-up: the sentences of it that speak of what was asked ("Il contrassegno non è disponibile."). */
  answerPart?: string;
}

export async function refineUnderstanding(
  thresholds: { answerThreshold: number; clarifyThreshold: number },
  input: RefineInput,
  conversation: Conversation,
): Promise<RefinedUnderstanding> {
  const { msg, now, knowledge } = input;
  let understanding = await input.understand(conversation.language);
  // "2", "la prima", or "sì" to a single option: the customer typed their choice among the options offered.
  const typed = msg.payload ? undefined : typedChoice(msg.text, conversation, now);
  const chosen = msg.payload && isLabel(msg.payload) ? msg.payload : typed !== undefined && isLabel(typed) ? typed : undefined;
  // "sì" to several options: neither a choice nor an "ok" to stay silent at; the bot asks which.
  // Asked once: a second bare "yes" is a miss (two in a row bring a person).
  const yesToMany = !msg.payload && yesToSeveral(msg.text, conversation, now);
  const yesToOptions = yesToMany && conversation.lastOffer?.askedWhich !== true;
  if (yesToMany) understanding = { ...understanding, classification: { ranked: [] } };
  // "@bottegarossi parlate inglese?", "@bottegarossi dove trovo il numero d'ordine?": the mention kept
  // a question the corpus answers word for word (match: exact) from being recognised, and the rest
  // leaned elsewhere ("please rephrase", the contacts). Without the mentions it is that question,
  // however sure the whole was (the order status at 0.93 asked for the number the customer was
  // asking where to find): only a word-for-word question is taken from this reading.
  const bare = withoutMentions(msg.text);
  if (chosen === undefined && !yesToMany && bare !== '' && bare !== msg.text.trim()) {
    const alone = await input.understandText(bare, understanding.language);
    const best = alone.classification.ranked[0];
    const intent = best && best.confidence >= 1 ? resolveLabel(best.label, best.confidence, knowledge.corpus, understanding.language).intent : undefined;
    if (intent?.match === 'exact') understanding = { ...understanding, classification: alone.classification };
  }
  // "great, another week without my parcel. thanks a lot 🙄": thanks with a sour note are sarcasm
  // (read whole: thanks at 0.98, and "you're welcome"). What the customer complains of is read
  // without the courtesies and answered when understood; either way the message is an upset one
  // (one sign of anger: not understood, a person answers, decide.ts 5a'').
  const sour = chosen === undefined && !yesToMany && bestIntentAction(understanding, knowledge.corpus) === 'thank' ? sarcasticThanks(msg.text) : undefined;
  if (sour !== undefined) {
    const alone = sour === '' ? undefined : await input.understandText(sour, understanding.language);
    const action = alone && bestIntentAction(alone, knowledge.corpus);
    const understood = alone !== undefined && (alone.classification.ranked[0]?.confidence ?? 0) >= thresholds.answerThreshold && action !== 'thank' && action !== 'answer';
    understanding = {
      ...understanding,
      classification: understood ? alone.classification : { ranked: [] },
      sentiment: Math.min(understanding.sentiment, SARCASM_SENTIMENT),
      anger: Math.max(understanding.anger, SARCASM_ANGER),
    };
  }
  // "grazie mille eh, ancora niente pacco 🙄", "thanks, where is my order?": thanks that open a
  // message with more to say are not its point. What follows is read alone, and counts when it is
  // understood (or when the message is not a happy one: not "you're welcome" to a complaint).
  // Read so too when the whole leaned on something else unsurely ("ok grazie, e per il reso quanti
  // giorni ho?": returns at 0.45–0.51 beside thanks, from one corpus edit to the next): what follows
  // the thanks counts when it is surer alone.
  const rest = chosen === undefined && !yesToMany && sour === undefined ? afterCourtesy(msg.text) : undefined;
  const thanked = rest !== undefined && bestIntentAction(understanding, knowledge.corpus) === 'thank';
  const wholeConfidence = understanding.classification.ranked[0]?.confidence ?? 0;
  if (rest !== undefined && (thanked || wholeConfidence < SURE)) {
    const alone = await input.understandText(rest, understanding.language);
    const thanksAlone = bestIntentAction(alone, knowledge.corpus) === 'thank';
    const aloneConfidence = alone.classification.ranked[0]?.confidence ?? 0;
    const understood = aloneConfidence >= thresholds.answerThreshold;
    const better = thanked ? understood || understanding.sentiment < 0 : understood && aloneConfidence > wholeConfidence;
    if (!thanksAlone && better) understanding = { ...understanding, classification: alone.classification };
  }
  // "hey, do you ship to Switzerland?": a greeting won over a question with a word the FAQ does not
  // know. What follows the greeting is read alone, and counts when it finds an FAQ entry (answered,
  // or offered when the bot asks what was meant); "ciao, come stai?" stays a greeting.
  const afterHello = chosen === undefined && !yesToMany && rest === undefined ? afterGreeting(msg.text) : undefined;
  // So with an announcement ("quick question: do you ship to Spain?", where "quick" leaned on express
  // shipping): its words are no part of the question, so what follows is read alone however sure
  // the whole was (found sure of express shipping by the words "quick question" alone).
  const wholeBest = understanding.classification.ranked[0]?.confidence ?? 0;
  const greeted = afterHello !== undefined && (bestIntentAction(understanding, knowledge.corpus) === 'greet' || opensWithAnnouncement(msg.text));
  // Read alone whenever a greeting opens the message, however sure the whole was: a greeting adds
  // nothing to the question, and the whole's reading moved around the answer threshold from one
  // corpus edit to the next ("ciao, dove trovo il numero d'ordine?": the contacts at 0.43, then 0.68).
  if (afterHello !== undefined) {
    const alone = await input.understandText(afterHello, understanding.language);
    const best = alone.classification.ranked[0];
    // An FAQ entry, or a question the corpus answers word for word ("ciao, dove trovo il numero
    // d'ordine?" leaned on the contacts at 0.43), also when the whole read as a greeting: "ciao,
    // parlate inglese?" got the welcome, which does not say it ("ciao, sei un bot?" gets the answer
    // that says what the bot is, rather than the welcome that only names it).
    const resolved = best ? resolveLabel(best.label, best.confidence, knowledge.corpus, understanding.language) : undefined;
    const ownAnswer = resolved?.intent?.action === 'answer' && resolved.intent.match === 'exact';
    const found = resolved?.entry !== undefined || ownAnswer;
    if (best && best.confidence >= thresholds.clarifyThreshold && (greeted || best.confidence > wholeBest) && found) {
      understanding = { ...understanding, classification: alone.classification };
    }
  }
  // "ciao, domanda veloce": greetings and an announcement of a question, nothing else. Whole, "veloce"
  // leaned on express shipping; the announcement alone is read instead when it is an intent ("help").
  const announced = chosen === undefined && !yesToMany && rest === undefined && afterHello === undefined ? onlyAnnouncement(msg.text) : undefined;
  if (announced !== undefined) {
    const alone = await input.understandText(announced, understanding.language);
    if (bestIntentAction(alone, knowledge.corpus) !== undefined) understanding = { ...understanding, classification: alone.classification };
  }
  // "AB123456", "ordine 4455667": an order number alone asks where that order is (pipeline/order-reference.ts).
  // Read whole it was "please rephrase", or cancelling ("ordine" alone leaned on it at 0.97).
  const orderAlone = chosen === undefined && !yesToMany && onlyOrderReference(msg.text, understanding.entities);
  if (orderAlone) {
    const asked = await input.understandText(ORDER_QUESTION[understanding.language], understanding.language);
    understanding = { ...understanding, classification: asked.classification };
  }
  // "hi, my order number is BR-1122334, can you tell me when it arrives?": with the number out, what
  // is left says too little ("can you tell me when it arrives?" was off topic). Not understood as an
  // FAQ entry, it is read after the question of where the order is, and that reading counts when it
  // finds an entry (the brand's for it takes the number as the detail given).
  if (!orderAlone && chosen === undefined && !yesToMany && asksAboutGivenOrder(msg.text, understanding.entities, understanding.language)) {
    const best = understanding.classification.ranked[0];
    const found = best !== undefined && best.confidence >= thresholds.answerThreshold ? resolveLabel(best.label, best.confidence, knowledge.corpus, understanding.language).entry : undefined;
    // "order BR-1122334, when will it arrive?" read as a sold-out item's restock (0.86): an entry
    // that takes no order number (not private, no person to follow) is not what a customer giving
    // one and speaking of it on its way asks; then only a reading that takes the number replaces it.
    const takesNoNumber = found !== undefined && !found.private && !found.escalate && givenOrderOnItsWay(msg.text, understanding.entities, understanding.language);
    if ((found === undefined && !confidentlyKnown(understanding, knowledge.corpus, thresholds.answerThreshold)) || takesNoNumber) {
      const together = await input.understandText(`${ORDER_QUESTION[understanding.language]} ${withoutData(msg.text, understanding.entities)}`, understanding.language);
      const read = together.classification.ranked[0];
      const entry = read && read.confidence >= thresholds.answerThreshold ? resolveLabel(read.label, read.confidence, knowledge.corpus, understanding.language).entry : undefined;
      if (entry && (!takesNoNumber || entry.private)) understanding = { ...understanding, classification: together.classification };
    }
  }
  // "Rieccomi", "sono di nuovo io", "it's me again": a greeting (alone it was off topic, or nothing).
  // So is a mention and nothing else ("@bottegarossi"): the customer calls the brand (it got "please rephrase").
  if (chosen === undefined && !yesToMany && (onlySaysBack(msg.text) || onlyMentions(msg.text))) {
    const hello = await input.understandText(BACK_GREETING[understanding.language], understanding.language);
    if (bestIntentAction(hello, knowledge.corpus) === 'greet') understanding = { ...understanding, classification: hello.classification };
  }
  // "?" or "??" alone: a call, like "ci sei?" / "hello?" (it got "please rephrase your question", and
  // a second one a person).
  if (chosen === undefined && !yesToMany && onlyQuestionMarks(msg.text)) {
    const call = await input.understandText(CALL[understanding.language], understanding.language);
    if (bestIntentAction(call, knowledge.corpus) === 'greet') understanding = { ...understanding, classification: call.classification };
  }
  // "Look, I don't know what to do anymore. I bought a sweater… What do I do now to exchange it?": a
  // story with its question in it. Whole, the story drowns the question ("please rephrase"); when
  // the whole is not understood, the question alone is read, and counts when it finds an FAQ entry.
  const story = chosen === undefined && !yesToMany && !orderAlone && !confidentlyKnown(understanding, knowledge.corpus, thresholds.answerThreshold) ? questionOfStory(msg.text) : undefined;
  if (story !== undefined) {
    const alone = await input.understandText(story, understanding.language);
    const best = alone.classification.ranked[0];
    if (best && best.confidence >= SURE && resolveLabel(best.label, best.confidence, knowledge.corpus, understanding.language).entry) {
      understanding = { ...understanding, classification: alone.classification };
    }
  }
  // "e in contrassegno?" after a payments answer: unsure alone, read with the question answered last.
  // "how does it work?" after the gift cards, which alone leaned on the jobs entry: a question that
  // names nothing but how long, how much or how is read with the answer before it even then, and
  // that reading is kept only when it answers.
  const sureAlone = confidentlyKnown(understanding, knowledge.corpus, SURE);
  const aboutIt = sureAlone && asksOnlyAboutIt(msg.text, understanding.language);
  const leansOn = chosen !== undefined || orderAlone || (sureAlone && !aboutIt)
    ? undefined
    : followUpContext(msg.text, understanding.language, conversation, knowledge.corpus, now);
  // "How does it work?", "quanto costa?", "does it expire?" with no answer before it to be about:
  // "it" is nothing yet. Read alone it leaned on whatever entry has its words (the jobs entry,
  // "work", at 0.88); the bot asks what the customer means instead.
  if (chosen === undefined && !yesToMany && asksAboutNothing(msg.text, understanding.language) && followUpContext(msg.text, understanding.language, conversation, knowledge.corpus, now) === undefined) {
    understanding = { ...understanding, classification: { ranked: [] } };
  }
  let beyondAnswer = false;
  let part: string | undefined;
  if (leansOn !== undefined) {
    const together = await input.understandText(`${leansOn} ${pointOf(msg.text)}`, understanding.language);
    const best = together.classification.ranked[0];
    const entry = best && best.confidence >= thresholds.answerThreshold ? resolveLabel(best.label, best.confidence, knowledge.corpus, understanding.language).entry : undefined;
    if (entry && followUpAnswers(msg.text, understanding.language, conversation, entry)) {
      understanding = { ...understanding, classification: together.classification };
      if (entry.id === conversation.lastAnswer?.faqId) part = answerPart(msg.text, understanding.language, entry);
    } else if (entry && !aboutIt) {
      // Leaning on the answer just given without saying what it asks ("e quanto tempo ho?"): the
      // answer is offered when the bot asks what was meant, not repeated, and not called off topic.
      understanding = { ...understanding, classification: { ranked: withGuess(understanding.classification.ranked, `faq:${entry.id}`, thresholds.clarifyThreshold) } };
      // Offered back only when nothing else is plausible: otherwise the bot asks among them.
      const others = understanding.classification.ranked.filter((r) => r.label.startsWith('faq:') && r.label !== `faq:${entry.id}` && r.confidence >= thresholds.clarifyThreshold);
      beyondAnswer = entry.id === conversation.lastAnswer?.faqId && others.length === 0;
    }
  }
  // "Can I use it in the shop?" soon after the gift cards: "it" is the gift card, so the answer just
  // given says it where one of its sentences names what is asked ("valid … in our Milan shop"),
  // however sure the words alone were of something else (the shop's address at 0.99).
  if (part === undefined && chosen === undefined && usesIt(msg.text, understanding.language) && followUpContext(msg.text, understanding.language, conversation, knowledge.corpus, now) !== undefined) {
    const last = knowledge.corpus.faq.find((e) => e.id === conversation.lastAnswer?.faqId);
    const said = last ? answerPart(msg.text, understanding.language, last) : undefined;
    if (last && said !== undefined) {
      const sure = Math.max(thresholds.answerThreshold, understanding.classification.ranked[0]?.confidence ?? 0);
      // The other readings keep their order in what is left (the shop's address is no rival of it).
      understanding = { ...understanding, classification: { ranked: ledBy(understanding.classification.ranked, `faq:${last.id}`, sure) } };
      part = said;
      // The answer covers it after all (read with the answer, "si può usare online?" found no more
      // than the same entry, unsure, and would have been told there is nothing more).
      beyondAnswer = false;
    }
  }
  // "E adesso?", "what now?" soon after an answer: the step after it, which the answer does not give
  // (it said all it has). Said honestly, as for a follow-up the answer does not cover, with how to
  // reach a person; read alone it was off topic (0.9: "I can't help with that") or, "and now?",
  // solved ("glad it's sorted").
  const lastAt = conversation.lastAnswer ? Date.parse(conversation.lastAnswer.at) : Number.NaN;
  if (part === undefined && chosen === undefined && !yesToMany && conversation.lastAnswer && now.getTime() - lastAt <= FOLLOW_UP_MINUTES * 60_000 && asksNextStep(msg.text, understanding.language)) {
    understanding = { ...understanding, classification: { ranked: ledBy(understanding.classification.ranked, `faq:${conversation.lastAnswer.faqId}`, thresholds.answerThreshold) } };
    beyondAnswer = true;
  }
  // "e in Svizzera?" understood alone, and as the answer just given: the part of it that answers.
  if (part === undefined && chosen === undefined && conversation.lastAnswer !== undefined && followUpContext(msg.text, understanding.language, conversation, knowledge.corpus, now) !== undefined) {
    const best = understanding.classification.ranked[0];
    const entry = best && best.confidence >= thresholds.answerThreshold ? resolveLabel(best.label, best.confidence, knowledge.corpus, understanding.language).entry : undefined;
    if (entry && entry.id === conversation.lastAnswer.faqId) part = answerPart(msg.text, understanding.language, entry);
  }
  return { understanding, chosen, yesToOptions, leansOn, ...(beyondAnswer ? { beyondAnswer: true as const } : {}), ...(part !== undefined ? { answerPart: part } : {}) };
}

/** A reading this sure is not read again without the mentions (contacts at 0.64 was, and was wrong). */
const SURE = 0.9;

/** A message of this many words or more tells a story rather than asking a question. */
export const STORY_WORDS = 25;

/**
 * The last question of a story (a message of STORY_WORDS or more, of several sentences, with a
 * question in it): "What do I do now to exchange it?"; undefined for a question alone.
 */
function questionOfStory(text: string): string | undefined {
  const bare = pointOf(text);
  if ((bare.match(/[\p{L}\p{N}]+/gu) ?? []).length < STORY_WORDS) return undefined;
  const questions = bare.match(/[^?.!\n]*\?/g) ?? [];
  const last = questions.at(-1)?.trim();
  return last !== undefined && (last.match(/\p{L}{2,}/gu) ?? []).length >= 3 ? last : undefined;
}

/** Sarcastic thanks are one sign of anger (decide.ts: upset from 0.45, a person only from the escalation threshold). */
const SARCASM_ANGER = 0.45;
/** …and not warm: never thanked as praise. */
const SARCASM_SENTIMENT = -0.4;

/** `label` first at `confidence`; the other readings keep their order in what is left. */
function ledBy(ranked: readonly LabelScore[], label: string, confidence: number): LabelScore[] {
  const rest = ranked.filter((r) => r.label !== label).map((r) => ({ label: r.label, confidence: r.confidence * (1 - confidence) }));
  return [{ label, confidence }, ...rest];
}

/** `ranked` with `label` at least as plausible as `floor` (the clarify threshold), in order. */
function withGuess(ranked: readonly LabelScore[], label: string, floor: number): LabelScore[] {
  const rest = ranked.filter((r) => r.label !== label);
  const confidence = Math.max(floor, ranked.find((r) => r.label === label)?.confidence ?? 0);
  return [...rest, { label, confidence }].sort((a, b) => b.confidence - a.confidence);
}

/**
 * True when the best label is an FAQ entry, or an intent other than one that answers itself (the
 * off-topic reply), at the answer threshold: a message a follow-up reading would not improve.
 */
function confidentlyKnown(understanding: Understanding, corpus: Corpus, threshold: number): boolean {
  const best = understanding.classification.ranked[0];
  if (!best || best.confidence < threshold) return false;
  return resolveLabel(best.label, best.confidence, corpus, understanding.language).intent?.action !== 'answer';
}
