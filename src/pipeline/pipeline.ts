/**
 * @module pipeline
 * `receive(msg)`: the one entry point every channel feeds.
 * accept (`store.inbox.accept`: dedupe by channel + message id, durably) → understand (started
 * at once) → through the
 * conversation writer: lock → load context → plan the turn (turn-plan.ts: open, refine the
 * understanding, decide, carry out, record) → commit with revisions → (sender) send.
 */
import type { KnowledgeSource } from '../core/corpus.js';
import type { EventBus } from '../core/events.js';
import { AlreadyProcessedError, PipelineError } from '../core/errors.js';
import { cleanInbound } from '../core/inbound-text.js';
import { pointOf } from './courtesy.js';
import type { ActionOutcome, ActionRunner, ChannelAdapter, Clock, PrivateReach, Store, Understanding } from '../core/ports.js';
import type { Conversation, Customer, EscalationReason, InboundMessage, Language, OutboxItem } from '../core/types.js';
import type { Logger } from '../util/logger.js';
import { createConversationWriter } from './conversation-writer.js';
import type { EventRecorder } from '../events/recorder.js';
import type { Decision } from './decide.js';
import type { ReplySender } from './outbox-sender.js';
import { actionKey, isLabel, labelText, mergeCustomer, planTurn, privateKey, type ActionCall, type TurnInput, type TurnPlan, type TurnPlanDeps } from './turn-plan.js';
import { isVip } from '../handoff/escalation.js';
import { openFollowUp, pendingSurvey, planSurveyAnswer, readSurveyAnswer, type SurveyAnswerResult } from './surveys.js';
import { createLogThrottle } from '../util/log-throttle.js';

/** Tries of a failed message in this process before it waits for the next start (about 6 minutes in all). */
const MAX_RETRIES = 10;

export type { HoursView } from './turn-plan.js';

/** Everything the pipeline needs, passed in (no globals). */
export interface PipelineDeps extends TurnPlanDeps {
  store: Store;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  knowledge: KnowledgeSource;
  channels: ReadonlyMap<string, ChannelAdapter>;
  /** The custom actions FAQ entries name (`handler`), called outside the conversation's lock. */
  actions: ActionRunner;
  /**
   * The sender, told of every turn's replies: those the store leased to the turn in its commit
   * (when the sender has room) it sends at once; the others it claims itself.
   */
  sender?: ReplySender;
  /** Makes each turn's outbound event deliveries (webhooks), committed with the turn. */
  recorder: EventRecorder;
  /** Messages processed at once before new deliveries wait to be acknowledged (default 256). */
  maxInFlight?: number;
  /** How long a turn may take before the channel shows a typing indicator (default 300 ms). */
  typingDelayMs?: number;
  /** Told of each answer to a satisfaction survey (metrics: sportello_surveys_total). */
  onSurveyAnswered?: (channel: string) => void;
}

/** What happened to one customer message: the test runner and `sportello chat` read this. */
export interface TurnOutcome {
  /** `survey_answer` / `survey_stop`: the message answered a satisfaction survey (not a new question). */
  /** `stale`: a delivery of a message older than `MAX_DELIVERY_AGE_MS`, ignored. */
  action: Decision['action'] | 'duplicate' | 'stale' | 'survey_answer' | 'survey_stop';
  reason?: EscalationReason;
  faqId?: string;
  /** The custom action whose outcome the turn used. */
  handler?: string;
  intent?: string;
  confidence?: number;
  language?: Language;
  conversation?: Conversation;
  replies: OutboxItem[];
}

/** The pipeline: `receive` (accept + process, idempotent) and `handleMessage` (process an accepted one). */
export interface Pipeline {
  /** Accepts a message (false for a duplicate) and processes it; resolves when processed. */
  receive(msg: InboundMessage): Promise<TurnOutcome>;
  /** Records a message durably and returns at once; processing continues in the background. */
  accept(msg: InboundMessage): Promise<{ duplicate: boolean; done: Promise<TurnOutcome> }>;
  /** Processes an accepted message under its conversation's lock. */
  handleMessage(msg: InboundMessage): Promise<TurnOutcome>;
  /** Processes messages accepted before a crash but never processed. */
  recover(): Promise<number>;
  /** Resolves when every message accepted so far is processed. */
  idle(): Promise<void>;
}

/** The conversation key: public threads by thread, private conversations by customer. */
export function conversationKey(msg: Pick<InboundMessage, 'channel' | 'visibility' | 'threadId' | 'id' | 'customer'>): string {
  return msg.visibility === 'public'
    ? `${msg.channel}:public:${msg.threadId ?? msg.id}`
    : `${msg.channel}:private:${msg.customer.platformId}`;
}

/** Custom actions one turn may call before its remaining calls count as failed (the conversation kept changing). */
const MAX_ACTION_CALLS = 3;
/** Plans of one turn before it gives up (the message stays pending and is recovered later). */
const MAX_ACTION_ROUNDS = 6;

/**
 * A delivery of a message written longer ago than this is ignored. Platforms retry a delivery for
 * hours, not days; the ids of processed messages are kept 30 days, so without this a signed
 * delivery recorded by someone could be played again, once its id was forgotten, as a new message.
 */
export const MAX_DELIVERY_AGE_MS = 7 * 24 * 60 * 60_000;

/** Creates the pipeline. */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { store, clock, logger } = deps;
  const quiet = createLogThrottle();
  const writer = createConversationWriter({ store, bus: deps.bus, logger, sender: deps.sender, recorder: deps.recorder });
  const inFlight = new Set<Promise<unknown>>();
  /** Deliveries waiting for a processing slot (backpressure), woken one per finished turn. */
  const waiting: Array<() => void> = [];

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p
      .finally(() => {
        inFlight.delete(p);
        waiting.shift()?.();
      })
      .catch(() => undefined);
    return p;
  }

  /** Backpressure: waits while `maxInFlight` turns are under way, so a burst cannot pile up unboundedly. */
  async function slot(): Promise<void> {
    const limit = deps.maxInFlight ?? 256;
    while (inFlight.size >= limit) await new Promise<void>((wake) => waiting.push(wake));
  }

  /**
   * Accepts a message: the store says whether it is new and when it is kept durably (see
   * Inbox.accept: at once, or with its turn's commit). A new message is processed in the
   * background; the delivery is acknowledged (this resolves) only once the message is durable, so
   * a message acknowledged is never lost: if that fails, the platform delivers it again.
   */
  async function accept(delivered: InboundMessage) {
    const msg = cleanInbound(delivered);
    const written = msg.sentAt !== undefined ? Date.parse(msg.sentAt) : NaN;
    if (clock.now().getTime() - written > MAX_DELIVERY_AGE_MS) {
      const told = quiet.take(`stale:${msg.channel}`);
      if (told.log) logger.warn({ channel: msg.channel, sentAt: msg.sentAt, ...(told.suppressed ? { ignoredSinceLastLine: told.suppressed } : {}) }, 'delivery of a message written over 7 days ago ignored (a replay?)');
      return { duplicate: true, done: Promise.resolve<TurnOutcome>({ action: 'stale', replies: [] }) };
    }
    const { fresh, durable } = await store.inbox.accept(msg);
    if (!fresh) {
      logger.info({ channel: msg.channel, messageId: msg.id }, 'duplicate delivery ignored');
      await durable;
      return { duplicate: true, done: Promise.resolve<TurnOutcome>({ action: 'duplicate', replies: [] }) };
    }
    // Acknowledged only when processing keeps up.
    await slot();
    const done = track(
      handleMessage(msg).catch((err: unknown) => {
        logger.error({ err, channel: msg.channel, messageId: msg.id }, 'message processing failed; it stays pending and is tried again');
        retryLater(msg, 1);
        throw err;
      }),
    );
    done.catch(() => undefined);
    await durable;
    return { duplicate: false, done };
  }

  async function receive(msg: InboundMessage): Promise<TurnOutcome> {
    const { done } = await accept(msg);
    return done;
  }

  async function handleMessage(msg: InboundMessage): Promise<TurnOutcome> {
    try {
      return await processTurn(msg, conversationKey(msg));
    } catch (err) {
      if (err instanceof AlreadyProcessedError) {
        // Another instance (or a live delivery racing crash recovery) answered it: nothing to do.
        logger.info({ channel: msg.channel, messageId: msg.id }, 'message already processed elsewhere');
        return { action: 'duplicate', replies: [] };
      }
      throw new PipelineError('could not handle message', { channel: msg.channel, messageId: msg.id }, { cause: err });
    }
  }

  async function processTurn(msg: InboundMessage, key: string): Promise<TurnOutcome> {
    const adapter = deps.channels.get(msg.channel);
    if (!adapter) throw new PipelineError(`no channel adapter named ${msg.channel}`, { channel: msg.channel });
    // A typing indicator only when the turn is slow: a quick answer needs none (and saves a platform call).
    const typing = adapter.typing
      ? setTimeout(() => void adapter.typing!(msg).catch((err: unknown) => logger.debug({ err }, 'typing indicator failed')), deps.typingDelayMs ?? 300)
      : undefined;
    try {
      return await runTurn(msg, key, adapter);
    } finally {
      clearTimeout(typing);
    }
  }

  /** One customer turn through the conversation writer: lock, read, plan (turn-plan.ts), commit. */
  async function runTurn(msg: InboundMessage, key: string, adapter: ChannelAdapter): Promise<TurnOutcome> {
    const now = clock.now();
    const at = now.toISOString();
    // Understanding needs only the text: it starts now, on the understanding worker, while the
    // store reads the context (the conversation's language is checked against it in the plan).
    const knowledge = deps.knowledge.current();
    // What is understood: a button's label text, or the message, without a courtesy that opens an
    // objection ("grazie, ma non ho capito" is read as "non ho capito": courtesy.ts).
    const said = msg.payload && isLabel(msg.payload) ? labelText(msg.payload, knowledge) ?? msg.text : pointOf(msg.text);
    const { understander } = knowledge;
    const early = understander.understandAsync?.(said);
    // Awaited in the plan unless the context read fails first; then its outcome does not matter.
    early?.catch(() => undefined);
    const understand = async (previousLanguage: Language | undefined): Promise<Understanding> => {
      if (!early) return understander.understand(said, { previousLanguage });
      const understanding = await early;
      // Unless the text settled its language, the conversation's language wins: understood again in it.
      if (previousLanguage && !understanding.languageSettled && understanding.language !== previousLanguage) {
        return understander.understandAsync!(said, { previousLanguage });
      }
      return understanding;
    };
    const understandText = (text: string, language: Language): Promise<Understanding> =>
      understander.understandAsync ? understander.understandAsync(text, { previousLanguage: language }) : Promise.resolve(understander.understand(text, { previousLanguage: language }));
    let reach: Promise<PrivateReach> | undefined;
    const input: TurnInput = { msg, key, adapter, now, at, knowledge, understand, understandText, reach: (customer) => (reach ??= privateReach(adapter, customer)) };

    // Load (or create) the customer, the conversation and its case: one store call. A public
    // message may open the customer's private conversation: it is read here too.
    const query = {
      key,
      customerId: `${msg.channel}:${msg.customer.platformId}`,
      ...(msg.linkTo ? { linkedCustomerId: `${msg.channel}:${msg.linkTo.customerPlatformId}` } : {}),
      ...(msg.visibility === 'public' ? { otherKeys: [privateKey(msg)] } : {}),
    };
    // A turn that needs a custom action writes nothing and hands back the call: the action runs
    // here, outside the conversation's lock (a slow endpoint holds up no other writer), and the
    // turn is planned again, on what is stored by then, with the outcome. If the conversation
    // changed meanwhile (an operator took it), the new plan decides on that and may not use it.
    const handled = new Map<string, ActionOutcome>();
    let plan: TurnPlan | undefined;
    for (let round = 1; !plan; round += 1) {
      const step = await writer.change<TurnPlan | ActionCall | { survey: SurveyAnswerResult }>(query, (context) => {
        // An answer to the survey of this conversation's case (a score, a comment, "stop") is
        // recorded on that case, not taken as a new question.
        const answer = pendingSurvey(context.case, now) && context.conversation?.caseId === context.case!.id ? readSurveyAnswer(msg.text, msg.payload) : undefined;
        if (!answer) return planTurn(deps, { ...input, handled }, context);
        const planned = planSurveyAnswer(
          { defaultLocale: deps.settings.defaultLocale, lowScore: deps.settings.surveys?.lowScore ?? 0 },
          { msg, customer: mergeCustomer(msg, context.customer, at), now, at },
          context,
          answer,
        );
        return { ...planned, result: { survey: planned.result } };
      });
      if ('survey' in step) return surveyAnswered(step.survey, query);
      if (!('call' in step)) {
        plan = step;
      } else if (round > MAX_ACTION_ROUNDS) {
        throw new PipelineError('the conversation kept changing while its custom actions ran', { channel: msg.channel, messageId: msg.id });
      } else {
        const outcome: ActionOutcome =
          handled.size < MAX_ACTION_CALLS ? await deps.actions.call(step.call) : { kind: 'failed', error: 'the conversation kept changing while its action ran' };
        handled.set(actionKey(step.call), outcome);
      }
    }
    const { decision, escalation, top, language, conversation, replies } = plan;
    if (plan.flagged && adapter.hideMessage) {
      // Hide the post where the platform allows (Facebook comments, replies on X): it stays flagged for operators.
      await adapter.hideMessage(conversation, msg.id).catch((err: unknown) => logger.warn({ err, channel: msg.channel }, 'could not hide a post with private data'));
    }

    logger.info(
      {
        channel: msg.channel,
        conversationId: conversation.id,
        action: plan.action,
        reason: escalation,
        label: top?.label,
        confidence: top ? Number(top.confidence.toFixed(3)) : undefined,
        language,
        handler: plan.handler,
      },
      'turn handled',
    );
    return {
      action: plan.action as TurnOutcome['action'],
      reason: escalation,
      faqId: decision.action === 'answer' || decision.action === 'handler' ? decision.entry.id : decision.action === 'dm_prompt' ? decision.entry?.id : undefined,
      handler: plan.handler,
      intent: top?.intent?.name,
      confidence: top?.confidence,
      language,
      conversation,
      replies: replies.map((r, i) => ({ ...r, seq: i + 1 })),
    };
  }

  /** After a survey's answer: counted, and a low score's follow-up opened (a second change: it writes a new case). */
  async function surveyAnswered(result: SurveyAnswerResult, query: { key: string; customerId: string }): Promise<TurnOutcome> {
    if (result.answer.kind === 'score') deps.onSurveyAnswered?.(result.conversation.channel);
    let conversation = result.conversation;
    if (result.followUp) {
      const opened = await openFollowUp(
        writer,
        { defaultLocale: deps.settings.defaultLocale, queueInfo: deps.queueInfo, isVip: (c) => c !== undefined && isVip(c, deps.settings.rules) },
        { ...query, caseId: result.caseId },
        () => clock.now(),
      );
      conversation = (await store.conversations.get(conversation.id)) ?? conversation;
      logger.info({ channel: conversation.channel, conversationId: conversation.id, caseId: opened }, 'low satisfaction score: follow-up queued');
    }
    logger.info({ channel: conversation.channel, conversationId: conversation.id, action: result.answer.kind === 'stop' ? 'survey_stop' : 'survey_answer' }, 'turn handled');
    return {
      action: result.answer.kind === 'stop' ? 'survey_stop' : 'survey_answer',
      language: conversation.language,
      conversation,
      replies: result.replies.map((r, i) => ({ ...r, seq: i + 1 })),
    };
  }

  async function privateReach(adapter: ChannelAdapter, customer: Customer): Promise<PrivateReach> {
    if (!adapter.capabilities.privateMessages) return 'unavailable';
    if (!adapter.privateReach) return 'open';
    try {
      return await adapter.privateReach(customer);
    } catch (err) {
      logger.warn({ err, channel: adapter.name }, 'private reach lookup failed; asking the customer to write privately');
      return 'needs_follow';
    }
  }

  /**
   * A message whose turn failed (the store was down, say) stays pending in the inbox; this
   * instance tries it again with a growing delay (1 s, 2 s, 4 s… up to a minute), so the customer
   * is answered once the fault clears, not only at the next start. A turn another instance
   * committed meanwhile ends as a duplicate. After the last try it waits for the next start's
   * recovery.
   */
  function retryLater(msg: InboundMessage, attempt: number): void {
    const timer = setTimeout(() => {
      handleMessage(msg).catch((err: unknown) => {
        if (attempt >= MAX_RETRIES) {
          logger.error({ err, channel: msg.channel, messageId: msg.id }, 'message processing failed again; it stays pending until the next start');
          return;
        }
        logger.warn({ err, channel: msg.channel, messageId: msg.id, attempt }, 'message processing failed again; trying later');
        retryLater(msg, attempt + 1);
      });
    }, Math.min(60_000, 1000 * 2 ** (attempt - 1)));
    timer.unref();
  }

  async function recover(): Promise<number> {
    const pending = await store.inbox.pending(1000);
    for (const msg of pending) {
      await handleMessage(msg).catch((err: unknown) => logger.error({ err, messageId: msg.id }, 'recovery of a message failed'));
    }
    return pending.length;
  }

  async function idle(): Promise<void> {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  }

  return { receive, accept, handleMessage, recover, idle };
}

export type { Understanding };
