/**
 * @module pipeline/decide
 * The decision step: a small, readable function of (conversation state, understanding,
 * FAQ entry or intent, rules) → what the bot does. No I/O: the pipeline gathers the facts,
 * this table decides, the pipeline carries it out.
 */
import type { FaqEntry, IntentDef } from '../core/corpus.js';
import type { LabelScore, Understanding } from '../core/ports.js';
import type { ConversationState } from '../core/state.js';
import type { EscalationReason, Visibility } from '../core/types.js';
import { findEscalation, type EscalationRules } from '../handoff/escalation.js';

/** What the bot does with a customer's message (the action vocabulary of FORMATS.md). */
export type Decision =
  | { action: 'silent' }
  | { action: 'none' }
  | { action: 'privacy_warning' }
  | { action: 'escalate'; reason: EscalationReason }
  | { action: 'answer'; entry: FaqEntry; thenEscalate?: EscalationReason }
  | { action: 'dm_prompt'; entry?: FaqEntry; intent?: IntentDef }
  | { action: 'clarify'; guesses: LabelScore[] }
  | { action: 'greet'; intent: IntentDef }
  | { action: 'thank'; intent: IntentDef }
  | { action: 'intent_answer'; intent: IntentDef };

/** The facts the decision looks at. */
export interface DecisionInput {
  state: ConversationState;
  visibility: Visibility;
  text: string;
  understanding: Understanding;
  /** The best label, resolved to its FAQ entry or intent. */
  top?: { label: string; confidence: number; entry?: FaqEntry; intent?: IntentDef };
  /** Low-confidence turns in a row before this one. */
  missStreak: number;
  /** Another conversation of the case (the public thread) is waiting for the customer in private. */
  caseAwaitsPrivate: boolean;
  customer: { handle?: string; followers?: number };
  rules: EscalationRules;
  thresholds: { answer: number; clarify: number };
}

/** The decision table. Order matters: the first row that applies wins. */
export function decide(input: DecisionInput): Decision {
  const { state, visibility, understanding, top, thresholds } = input;

  // 1. A person holds (or is about to take) the conversation: the bot does not talk over them.
  if (state === 'assigned' || state === 'queued') return { action: 'silent' };

  // 2. Private data posted in public: never repeat it, move to private, flag it.
  if (visibility === 'public' && understanding.entities.some((e) => e.private)) {
    return { action: 'privacy_warning' };
  }

  const confident = top !== undefined && top.confidence >= thresholds.answer;
  const intent = confident ? top.intent : undefined;

  // 3. Crisis, a request for a person, anger, VIP: a person answers.
  const escalation = findEscalation(
    { text: input.text, understanding, intent: intent?.name, customer: input.customer },
    input.rules,
  );
  if (escalation) return { action: 'escalate', reason: escalation };

  // 4. The customer came to private after a DM prompt: their private case goes to a person.
  if (visibility === 'private' && (state === 'awaiting_private' || input.caseAwaitsPrivate)) {
    const sharesData = understanding.entities.length > 0;
    if (!sharesData && (intent?.action === 'greet' || intent?.action === 'thank')) {
      return intent.action === 'greet' ? { action: 'greet', intent } : { action: 'thank', intent };
    }
    return { action: 'escalate', reason: 'private_case' };
  }

  // 5. Understood: answer, move to private, or small talk.
  if (confident && top.entry) {
    const entry = top.entry;
    if (entry.private && visibility === 'public') return { action: 'dm_prompt', entry };
    if (entry.escalate) return { action: 'answer', entry, thenEscalate: 'faq_escalate' };
    return { action: 'answer', entry };
  }
  if (intent) {
    switch (intent.action) {
      case 'greet':
        return { action: 'greet', intent };
      case 'thank':
        return { action: 'thank', intent };
      case 'escalate':
        return { action: 'escalate', reason: 'policy' };
      case 'dm_prompt':
        return visibility === 'public' ? { action: 'dm_prompt', intent } : { action: 'dm_prompt', intent };
      case 'answer':
        return intent.answer ? { action: 'intent_answer', intent } : { action: 'none' };
      case 'none':
        return { action: 'none' };
    }
  }

  // 6. Not understood: clarify once, a second miss in a row goes to a person.
  if (input.missStreak + 1 >= input.rules.missesBeforeEscalation) {
    return { action: 'escalate', reason: 'low_confidence' };
  }
  const guesses = understanding.classification.ranked.filter((r) => r.confidence >= thresholds.clarify).slice(0, 3);
  return { action: 'clarify', guesses };
}
