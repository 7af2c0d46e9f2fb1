/**
 * @module server/operator-api
 * The operator JSON API under `/api/operator/` (login, queue, live events over SSE, case
 * history, FAQ suggestions, and the desk's actions) and the static console at `/console`.
 * Every route but login refuses a request without a valid session (401); every state change
 * needs the session's CSRF token and a same-origin request (403). One file per group of routes;
 * `routing.ts` holds what they share.
 */
import type { Server } from 'restify';
import type { Config } from '../../config/config.js';
import type { KnowledgeSource } from '../../core/corpus.js';
import type { EventBus } from '../../core/events.js';
import type { ChannelAdapter, Clock, Store } from '../../core/ports.js';
import { createHashPool, createLoginGate, createSessions, type Sessions } from '../../handoff/auth.js';
import type { BusinessHours } from '../../handoff/business-hours.js';
import type { OperatorDesk } from '../../handoff/operator-desk.js';
import type { Assignment } from '../../handoff/assignment.js';
import type { EventRecorder } from '../../events/recorder.js';
import type { Logger } from '../../util/logger.js';
import type { CrisisDesk } from '../../listening/crisis.js';
import { registerCrisisRoutes } from './crisis-routes.js';
import { registerListeningRoutes } from './listening-routes.js';
import type { PraiseDesk } from '../../handoff/praise.js';
import { registerActionRoutes } from './action-routes.js';
import { registerConsole } from './console.js';
import { registerDeskRoutes } from './desk-routes.js';
import { registerCustomerRightsRoutes } from './customer-rights-routes.js';
import { registerPresenceRoutes } from './presence-routes.js';
import { registerEventStream } from './event-stream.js';
import { registerQueueRoutes } from './queue-routes.js';
import { registerReportRoutes } from './report-routes.js';
import { createRouter } from './routing.js';
import { registerSessionRoutes } from './session-routes.js';
import { registerSuggestionRoutes } from './suggestion-routes.js';
import { registerWebhookRoutes } from './webhook-routes.js';
import { registerAuditRoutes } from './audit-routes.js';

export * from './schemas.js';

/** What the operator API needs. */
export interface OperatorApiDeps {
  store: Store;
  bus: EventBus;
  desk: OperatorDesk;
  /** The live corpus; `lastError` (when present) feeds the "corpus failed to reload" banner. */
  knowledge: KnowledgeSource & { lastError?(): string[] | undefined; reload?(): Promise<unknown> };
  clock: Clock;
  config: Readonly<Config>;
  logger: Logger;
  hours: BusinessHours;
  /** Makes an approval's outbound event deliveries (faq.approved), written with it. */
  recorder: EventRecorder;
  /** The channels, by name: their capabilities fit saved replies to a conversation's channel. */
  channels: ReadonlyMap<string, ChannelAdapter>;
  /** Presence, teams and auto-assignment. */
  assignment: Assignment;
  /** SSE heartbeat period (tests shorten it). */
  heartbeatMs?: number;
  /** Crisis mode (listening): absent, its routes answer 404. */
  crisis?: CrisisDesk;
  /** Heard posts, praise thank-yous and advocates (listening): absent, their routes answer 404. */
  praise?: PraiseDesk;
}

/** What `registerOperatorApi` returns. */
export interface OperatorApi {
  /** Ends the open event streams (call before closing the HTTP server, which waits for them). */
  close(): void;
}

/** Registers the operator API under `/api/operator/` and the console at `/console`. */
export function registerOperatorApi(server: Server, deps: OperatorApiDeps): OperatorApi {
  const { store, clock, config, logger } = deps;
  const gate = createLoginGate({ clock, store });
  const pool = createHashPool();
  const sessions: Sessions = createSessions({ secret: config.sessionSecret, clock, store, secure: Boolean(config.publicUrl?.startsWith('https:')) });
  const router = createRouter(server, { store, sessions, config, logger, clock });

  registerSessionRoutes(server, router, deps, { gate, pool, sessions });
  registerQueueRoutes(router, deps);
  const streams = registerEventStream(server, router, deps, sessions);
  registerActionRoutes(router, deps);
  registerSuggestionRoutes(router, deps);
  registerWebhookRoutes(router, deps);
  registerReportRoutes(router, deps);
  registerCrisisRoutes(router, deps);
  registerListeningRoutes(router, deps);
  registerDeskRoutes(router, deps);
  registerCustomerRightsRoutes(router, deps);
  registerPresenceRoutes(router, deps);
  registerAuditRoutes(router, deps);
  registerConsole(server, logger, [...deps.channels.values()].flatMap((c) => (c.routes ?? []).flatMap((r) => (r.method === 'GET' && r.page ? [{ title: r.page, path: r.path }] : []))));

  return {
    close() {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
