/**
 * @module sportello
 * The package's public API (`import { … } from 'sportello'`). Everything else under dist/ is
 * internal and may change in any release. Documented in docs/extending.md.
 *
 * ```ts
 * import { createSportello } from 'sportello';
 * const sportello = await createSportello();   // configuration from process.env (.env.example)
 * const url = await sportello.listen();        // PORT, HOST; listen(0) picks a free port
 * // … later
 * await sportello.close();                     // finishes in-flight work, closes the store
 * ```
 */

// ── running Sportello ──
export { createSportello, type Sportello, type SportelloOptions } from './app.js';
export { loadConfig, type Config, type LoadConfigOptions } from './config/config.js';

// ── channels ──
export {
  defineChannel,
  allOrNone,
  envBool,
  envInt,
  envOrigin,
  type AnyChannelDefinition,
  type ChannelDefinition,
  type ChannelDeps,
  type ChannelSettingsResult,
  type ChannelTestSupport,
} from './channels/definition.js';
export { channelValues, type ChannelValues } from './channels/values.js';

// ── custom actions ──
export { defineAction, httpAction } from './actions/index.js';
export type { Action, ActionContext, ActionInput, ActionOutcome, ActionResult, ActionRequestBody, HttpActionSpec } from './actions/index.js';

// ── a project's config module (sportello.config.js) ──
export type { ProjectConfig } from './config/project.js';

// ── conversation tests ──
export {
  runConversationTests,
  conversationTestSchema,
  type ConversationTest,
  type ConversationTestOptions,
  type TestFailure,
  type TestReport,
} from './testing/conversation-tests.js';

// ── ports and domain types ──
export { systemClock, createFakeClock } from './core/ports.js';
export type {
  Clock,
  FakeClock,
  ChannelAdapter,
  ChannelCapabilities,
  ChannelContext,
  ChannelRequest,
  ChannelResponse,
  ChannelRoute,
  PrivateReach,
  SendResult,
  Classifier,
  Classification,
  LabelScore,
  Entity,
  TrainingExample,
  Understander,
  Understanding,
  Store,
  Inbox,
  Conversations,
  Outbox,
  OutboxOutcome,
  Directory,
  Suggestions,
  KeyValues,
  ConversationSearch,
  ConversationQuery,
  ConversationHit,
  CustomerFiles,
  SavedReplies,
  Acceptance,
  CommitOptions,
  ContextQuery,
  ConversationFilter,
  Revisions,
  TurnContext,
  TurnRecord,
} from './core/ports.js';
export type {
  Language,
  Visibility,
  Customer,
  CustomerProfile,
  InboundMessage,
  QuickReplyOption,
  Reply,
  Author,
  OutboxItem,
  EscalationReason,
  QueueInfo,
  Conversation,
  Case,
  StoredMessage,
  Operator,
  FaqSuggestion,
  CustomerFile,
  CustomerNote,
  SavedReply,
} from './core/types.js';
export { ESCALATION_REASONS } from './core/types.js';
export type { DomainEvent, DomainEventType, EventBus, EventMeta } from './core/events.js';
export { SportelloError, ConfigError, CorpusError, ChannelApiError, NetworkError, StoreError, WebhookBodyError } from './core/errors.js';
export type { Logger } from './util/logger.js';

/** zod, as Sportello uses it: a channel's `env` schema is written with it. */
export { z } from 'zod';
