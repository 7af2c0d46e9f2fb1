/**
 * @module pipeline/follow-ups
 * The scheduled jobs after a conversation: cases the bot closes, and satisfaction surveys.
 *
 * - **Bot close.** A case whose conversations are all with the bot (none queued, held or waiting
 *   for a DM), quiet for `botCloseMs` since the customer's last message, is closed: resolved by
 *   `bot` when the bot answered the customer's last message and nothing was escalated (so reports
 *   count it as deflected), else by `idle` (the customer left without an answer: not deflection).
 * - **Surveys.** A case resolved by a person (by the bot too with `surveyAfterBot`) gets one
 *   survey, `surveyDelayMs` after its resolution (business time with `surveyBusinessTime`), on its
 *   channel in private, within the channel's rules (ChannelCapabilities.surveys: a window after
 *   the customer's last message, the brand's private reach); never while the customer has an open
 *   case (it waits), never after "stop". A case that cannot have one is marked (`survey.skipped`),
 *   so it is not looked at again.
 *
 * Every change goes through the conversation writer (the state table, revision checks), so
 * several instances may run the jobs at once on one PostgreSQL database: the one that commits
 * first wins, the others plan again on what it wrote and find nothing left to do.
 */
import { createPeriodicJob } from '../util/periodic.js';
import type { ChannelAdapter, Clock, Store, TurnContext } from '../core/ports.js';
import { transition } from '../core/state.js';
import type { Case, CaseSurvey, Conversation, Language, OutboxItem, StoredMessage } from '../core/types.js';
import type { DomainEvent } from '../core/events.js';
import type { Logger } from '../util/logger.js';
import { newId } from '../util/ids.js';
import type { ConversationWriter, Planned } from './conversation-writer.js';
import { openFollowUp, surveyReply, type FollowUpDeps } from './surveys.js';
import { pendingReply } from './outbox-item.js';

/** What the jobs are told to do (config.followUps, and the brand). */
export interface FollowUpSettings {
  botCloseMs: number;
  surveys: boolean;
  surveyDelayMs: number;
  surveyBusinessTime: boolean;
  surveyAfterBot: boolean;
  intervalMs: number;
  brandName: string;
  defaultLocale: Language;
}

/** Where a case's survey goes. */
interface SurveyTarget {
  channel: string;
  /** The private conversation's key. */
  key: string;
  /** The customer's id on the platform there (the recipient). */
  platformId: string;
  /** The customer of that conversation (`channel:platformId`). */
  customerId: string;
  /** The case has this private conversation already (else the survey opens it). */
  existing: boolean;
}

/** What one run did. */
export interface FollowUpRun {
  closedByBot: number;
  closedIdle: number;
  surveysSent: number;
  surveysSkipped: number;
  /** Follow-ups of low scores a stopped process had left unopened. */
  followUpsOpened: number;
}

export interface FollowUpJobs {
  /** Does what is due now (tests call it with a fake clock; `start` calls it every interval). */
  runOnce(): Promise<FollowUpRun>;
  start(): void;
  stop(): Promise<void>;
}

/** A survey more than this late (the job was off) is not sent any more. */
const MAX_LATE_MS = 14 * 24 * 3_600_000;
/** Work taken per read (the survey job: per run; the next run takes the rest). */
const BATCH = 200;
/** Reads of quiet conversations per run (the next run goes on). */
const MAX_PAGES = 50;
/** A case a person resolved (not the bot, the bot-close job or the customer's "solved"). */
const byPerson = (kase: Case): boolean =>
  kase.status === 'resolved' && kase.resolvedBy !== undefined && kase.resolvedBy !== 'bot' && kase.resolvedBy !== 'idle' && kase.resolvedBy !== 'customer' && kase.resolvedBy !== 'erased';

/** Actions of the bot that answer the customer. */
const ANSWERS = new Set(['answer', 'thank']);

export function createFollowUpJobs(deps: {
  store: Store;
  writer: ConversationWriter;
  clock: Clock;
  logger: Logger;
  channels: ReadonlyMap<string, ChannelAdapter>;
  /** Business time (handoff/business-hours), for a delay counted in open hours. */
  hours: { addBusinessMs(from: Date, ms: number): Date };
  settings: FollowUpSettings;
  /** Told of each survey sent (metrics: sportello_surveys_total). */
  onSurveySent?: (channel: string) => void;
  /** What opening a low score's follow-up needs (queue data, VIP rule), for one left half done. */
  followUp: FollowUpDeps;
}): FollowUpJobs {
  const { store, writer, clock, logger, settings } = deps;

  async function closeQuiet(run: FollowUpRun): Promise<void> {
    if (settings.botCloseMs <= 0) return;
    const now = clock.now();
    // Quiet for the whole time or longer (the filter's bound is exclusive). Newest first, page by
    // page further back: conversations that cannot be closed yet (a sibling in the queue) do not
    // hide the older ones behind them.
    let before = new Date(now.getTime() - settings.botCloseMs + 1).toISOString();
    // Older ones were looked at for a week already: what keeps them open (a DM prompt the customer
    // never followed, which the DM may still continue) is not the job's to end.
    const floor = now.getTime() - settings.botCloseMs - MAX_LATE_MS / 2;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const quiet = await store.conversations.list({ states: ['bot'], updatedBefore: before, limit: BATCH });
      for (const c of quiet) {
        if (new Date(c.updatedAt).getTime() < floor) return;
        try {
          const by = await writer.change({ key: c.key, customerId: c.customerId }, (context) => planBotClose(context));
          if (by === 'bot') run.closedByBot += 1;
          else if (by === 'idle') run.closedIdle += 1;
        } catch (err) {
          logger.warn({ err, conversationId: c.id }, 'could not close a quiet conversation');
        }
      }
      if (quiet.length < BATCH) break;
      before = quiet[quiet.length - 1]!.updatedAt;
    }
  }

  async function planBotClose(context: TurnContext): Promise<Planned<'bot' | 'idle' | undefined>> {
    const now = clock.now();
    const conversation = context.conversation;
    const kase = context.case;
    if (!conversation || conversation.state !== 'bot' || !kase || kase.status !== 'open' || conversation.caseId !== kase.id) return { result: undefined };
    const related = new Map(context.related.map((r) => [r.id, r]));
    const all = [conversation, ...kase.conversationIds.filter((id) => id !== conversation.id).flatMap((id) => related.get(id) ?? [])];
    // Another side of the case needs something (a person holds it, it waits in the queue or for a DM).
    if (all.some((c) => c.state !== 'bot' && c.state !== 'resolved')) return { result: undefined };
    const last = Math.max(...all.map((c) => new Date(c.lastInboundAt ?? c.updatedAt).getTime()));
    if (now.getTime() - last < settings.botCloseMs) return { result: undefined };
    // Read within the plan: a message added meanwhile comes with a conversation's new revision, so the commit is refused and planned again.
    const messages = await store.conversations.listMessages({ caseId: kase.id });
    const inbound = messages.filter((m) => m.direction === 'in');
    const escalated = inbound.some((m) => m.escalation !== undefined) || messages.some((m) => m.author.kind === 'operator');
    const lastIn = inbound[inbound.length - 1];
    const by = !escalated && lastIn?.action !== undefined && ANSWERS.has(lastIn.action) ? 'bot' : 'idle';
    const at = now.toISOString();
    const conversations = all.filter((c) => c.state === 'bot').map((c): Conversation => ({ ...c, state: transition(c.state, 'resolved'), dataRequest: undefined, updatedAt: at }));
    const events: DomainEvent[] = conversations.map((c) => ({ type: 'conversation.resolved', conversationId: c.id, caseId: kase.id, at }));
    return {
      write: { conversations, case: { ...kase, status: 'resolved', resolvedAt: at, resolvedBy: by }, messages: [], outbox: [], events },
      result: by,
    };
  }

  async function sendSurveys(run: FollowUpRun): Promise<void> {
    if (!settings.surveys) return;
    const now = clock.now();
    const resolvedTo = new Date(now.getTime() - settings.surveyDelayMs + 1).toISOString();
    let resolvedFrom = new Date(now.getTime() - settings.surveyDelayMs - MAX_LATE_MS).toISOString();
    // Oldest first, page by page: cases that wait (their customer has a case open) do not hide the others.
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const due = await store.conversations.casesAwaitingSurvey({ resolvedFrom, resolvedTo, limit: BATCH });
      await surveyCases(due, now, run);
      if (due.length < BATCH) break;
      const last = new Date(due[due.length - 1]!.resolvedAt!).getTime();
      // Past the last one read (cases resolved in the same millisecond beyond a page wait for the next run).
      resolvedFrom = new Date(last + 1).toISOString();
    }
  }

  async function surveyCases(due: readonly Case[], now: Date, run: FollowUpRun): Promise<void> {
    for (const kase of due) {
      if (kase.survey?.followUpDue) {
        await finishFollowUp(kase, run);
        continue;
      }
      const resolvedAt = new Date(kase.resolvedAt!);
      if (settings.surveyBusinessTime && deps.hours.addBusinessMs(resolvedAt, settings.surveyDelayMs).getTime() > now.getTime()) continue;
      try {
        const target = await surveyTarget(kase);
        const outcome = await writer.change({ key: target.key, customerId: target.customerId, caseId: kase.id }, (context) => planSurvey(context, kase.id, target));
        if (outcome === 'sent') {
          run.surveysSent += 1;
          deps.onSurveySent?.(target.channel);
        } else if (outcome === 'skipped') run.surveysSkipped += 1;
      } catch (err) {
        logger.warn({ err, caseId: kase.id }, 'could not send a satisfaction survey');
      }
    }
  }

  /** A low score's follow-up left half done (the answering process stopped between the two changes). */
  async function finishFollowUp(kase: Case, run: FollowUpRun): Promise<void> {
    try {
      const conversation = await store.conversations.get(kase.survey!.followUpDue!);
      if (!conversation) return;
      const opened = await openFollowUp(writer, deps.followUp, { key: conversation.key, customerId: conversation.customerId, caseId: kase.id }, () => clock.now());
      if (opened) run.followUpsOpened += 1;
    } catch (err) {
      logger.warn({ err, caseId: kase.id }, 'could not open the follow-up of a low satisfaction score');
    }
  }

  /**
   * The conversation a case's survey goes to: the case's private conversation on its channel (the
   * one the customer wrote in last), else the customer's private conversation key there, which the
   * survey opens (where the channel may write first: `surveys.needsPrivateConversation` says not).
   */
  async function surveyTarget(kase: Case): Promise<SurveyTarget> {
    const conversations = (await Promise.all(kase.conversationIds.map((id) => store.conversations.get(id)))).flatMap((c) => c ?? []);
    const channel = conversations[0]?.channel ?? kase.customerId.slice(0, kase.customerId.indexOf(':'));
    const prefix = `${channel}:private:`;
    const own = conversations
      .filter((c) => c.channel === channel && c.visibility === 'private' && c.key.startsWith(prefix))
      .sort((a, b) => (b.lastInboundAt ?? b.updatedAt).localeCompare(a.lastInboundAt ?? a.updatedAt))[0];
    if (own) return { channel, key: own.key, platformId: own.key.slice(prefix.length), customerId: own.customerId, existing: true };
    const platformId = kase.customerId.slice(channel.length + 1);
    return { channel, platformId, key: `${prefix}${platformId}`, customerId: kase.customerId, existing: false };
  }

  async function planSurvey(context: TurnContext, caseId: string, target: SurveyTarget): Promise<Planned<'sent' | 'skipped' | undefined>> {
    const kase = context.requestedCase;
    if (!kase || kase.id !== caseId || kase.status !== 'resolved' || kase.survey !== undefined) return { result: undefined };
    const now = clock.now();
    const at = now.toISOString();
    const skip = (skipped: NonNullable<CaseSurvey['skipped']>): Planned<'skipped'> => ({
      write: { case: { ...kase, survey: { skipped, channel: target.channel } }, conversations: [], messages: [], outbox: [], events: [] },
      result: 'skipped',
    });
    if (!byPerson(kase) && !(kase.resolvedBy === 'bot' && settings.surveyAfterBot)) return skip('no_survey');
    if (context.customer?.surveyOptOutAt) return skip('opted_out');
    // Never while a new case is open: it waits until that one is resolved.
    if (context.openCase) return { result: undefined };
    // A later case a person resolved has its own survey; a later one the bot closed (a "thanks!"
    // after the resolution) does not take this one's place: the conversation comes back to it.
    if (context.case && context.case.id !== kase.id && context.case.openedAt > kase.openedAt && byPerson(context.case)) return skip('superseded');
    const adapter = deps.channels.get(target.channel);
    const rules = adapter?.capabilities.surveys;
    if (!adapter || !rules || !adapter.capabilities.privateMessages) return skip('no_survey');
    // A channel that cannot write first (Messenger: a commenter who never wrote in Messenger).
    if (rules.needsPrivateConversation && !target.existing) return skip('unreachable');
    const related = new Map(context.related.map((r) => [r.id, r]));
    if (context.conversation) related.set(context.conversation.id, context.conversation);
    const ofCase = kase.conversationIds.flatMap((id) => related.get(id) ?? []);
    // The window runs from the customer's last message where the survey goes, when they wrote there.
    const windowed = rules.needsPrivateConversation && context.conversation ? [context.conversation] : ofCase;
    const lastIn = Math.max(0, ...windowed.map((c) => (c.lastInboundAt ? new Date(c.lastInboundAt).getTime() : 0)));
    if (rules.withinMs !== undefined && (lastIn === 0 || now.getTime() - lastIn > rules.withinMs)) return skip('window_closed');
    if (!context.customer) return skip('unreachable');
    if (adapter.privateReach && (await adapter.privateReach(context.customer)) !== 'open') return skip('unreachable');

    const language = ofCase.find((c) => c.language)?.language ?? context.conversation?.language ?? settings.defaultLocale;
    const existing = context.conversation;
    const conversation: Conversation = existing
      ? { ...existing, caseId: kase.id, updatedAt: at }
      : {
          id: newId('cv'),
          key: target.key,
          channel: target.channel,
          visibility: 'private',
          customerId: kase.customerId,
          caseId: kase.id,
          state: 'resolved',
          missStreak: 0,
          flags: [],
          language,
          createdAt: at,
          updatedAt: at,
        };
    const reply = surveyReply(kase.id, language, settings.brandName);
    const item = pendingReply({
      conversationId: conversation.id,
      channel: target.channel,
      visibility: 'private',
      recipient: target.platformId,
      reply,
      author: { kind: 'bot' },
      now,
      ref: conversation.ref,
      customerLastMessageAt: lastIn > 0 ? new Date(lastIn).toISOString() : undefined,
    });
    const message: StoredMessage = {
      id: item.id,
      conversationId: conversation.id,
      caseId: kase.id,
      direction: 'out',
      author: { kind: 'bot' },
      text: reply.text,
      visibility: 'private',
      at,
      action: 'survey',
    };
    const conversationIds = kase.conversationIds.includes(conversation.id) ? kase.conversationIds : [...kase.conversationIds, conversation.id];
    return {
      write: {
        conversations: [conversation],
        case: { ...kase, conversationIds, survey: { sentAt: at, channel: target.channel } },
        messages: [message],
        outbox: [item],
        events: [{ type: 'conversation.updated', conversationId: conversation.id, at }],
      },
      result: 'sent',
    };
  }

  async function runOnce(): Promise<FollowUpRun> {
    const run: FollowUpRun = { closedByBot: 0, closedIdle: 0, surveysSent: 0, surveysSkipped: 0, followUpsOpened: 0 };
    await closeQuiet(run);
    await sendSurveys(run);
    return run;
  }

  const loop = createPeriodicJob({
    run: () => runOnce(),
    intervalMs: settings.intervalMs,
    onError: (err) => logger.warn({ err }, 'follow-up jobs failed; trying again at the next interval'),
  });

  return {
    runOnce,
    start() {
      if ((settings.botCloseMs <= 0 && !settings.surveys)) return;
      loop.start();
    },
    stop: () => loop.stop(),
  };
}
