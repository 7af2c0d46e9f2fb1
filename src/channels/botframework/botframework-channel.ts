/**
 * @module channels/botframework/botframework-channel
 * Microsoft Bot Framework (Azure Bot: Web Chat, Teams, Direct Line) through botbuilder 4.23's
 * CloudAdapter on our own HTTP server. Messages come in on `POST /api/messages`; every answer goes
 * out proactively (`continueConversationAsync`) from the conversation reference the pipeline
 * keeps, so operator replies and late bot messages work alike. Everything botbuilder-specific
 * stays in this folder: botbuilder is archived, and the Microsoft 365 Agents SDK speaks the same
 * protocol, so a migration replaces only this folder.
 */
import { createHash } from 'node:crypto';
import {
  ActivityTypes,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  EventFactory,
  TurnContext,
  type Activity,
  type ConversationReference,
  type Transcript,
} from 'botbuilder';
import { z } from 'zod';
import { ChannelApiError, ConfigError, NetworkError } from '../../core/errors.js';
import type { DomainEvent } from '../../core/events.js';
import type {
  ChannelAdapter,
  ChannelCapabilities,
  ChannelContext,
  ChannelRequest,
  ChannelResponse,
  ChannelRoute,
  Clock,
  SendResult,
  Store,
} from '../../core/ports.js';
import type { BotFrameworkSettings } from './settings.js';
import type { Conversation, InboundMessage, OutboxItem } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';
import { outboundHttpAgent, outboundHttpsAgent, retryAfterAt, type OutboundLimits } from '../../util/outbound.js';
import { createLogThrottle } from '../../util/log-throttle.js';
import { isLoopbackAddress, isLoopbackUrl } from './loopback.js';
import { BOTFRAMEWORK_CAPABILITIES } from './capabilities.js';

export { BOTFRAMEWORK_CAPABILITIES } from './capabilities.js';

/** Dependencies of the Bot Framework channel. */
export interface BotFrameworkChannelDeps {
  config: BotFrameworkSettings;
  /** Read for the handoff transcript (the conversation's messages). */
  store: Pick<Store, 'conversations'>;
  clock: Clock;
  logger: Logger;
  /** Connect and total time limits of every Connector call. */
  outbound: OutboundLimits;
}

/** The route the Azure Bot resource's messaging endpoint points at. */
export const BOTFRAMEWORK_PATH = '/api/messages';
const inboundActivitySchema = z.looseObject({
  type: z.string(),
  id: z.string().optional(),
  serviceUrl: z.string().optional(),
  channelId: z.string().optional(),
  timestamp: z.string().optional(),
  text: z.string().optional(),
  value: z.unknown().optional(),
  from: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
  conversation: z.looseObject({ id: z.string() }).optional(),
  attachments: z.array(z.looseObject({ contentType: z.string().optional(), name: z.string().optional() })).optional(),
});

/** What the pipeline stores in `InboundMessage.ref` and hands back in `OutboxItem.ref`. */
export const conversationReferenceSchema = z.looseObject({
  serviceUrl: z.string().min(1),
  channelId: z.string().min(1),
  conversation: z.looseObject({ id: z.string().min(1) }),
  bot: z.looseObject({ id: z.string() }).optional(),
  user: z.looseObject({ id: z.string() }).optional(),
  activityId: z.string().optional(),
  locale: z.string().optional(),
});

const restErrorSchema = z.looseObject({
  statusCode: z.number().optional(),
  message: z.string().optional(),
  code: z.string().optional(),
  response: z.looseObject({ headers: z.unknown().optional() }).optional(),
});

/** The Connector's `Retry-After` (seconds or an HTTP date) as epoch ms. */
function retryAfter(headers: unknown, now: number): number | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const get = (headers as { get?: unknown }).get;
  const value =
    typeof get === 'function' ? (get as (name: string) => unknown).call(headers, 'retry-after') : (headers as Record<string, unknown>)['retry-after'];
  return retryAfterAt(value, now);
}

/** What MSAL (the token request to Microsoft Entra ID, before any call to the Connector) throws. */
const msalErrorSchema = z.looseObject({
  name: z.string(),
  errorCode: z.string(),
  errorMessage: z.string().optional(),
  status: z.number().optional(),
});

/** AAD's answers that mean the app's id, secret or tenant are wrong (RFC 6749 §5.2). */
const TOKEN_REFUSALS = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant', 'invalid_request', 'invalid_scope', 'invalid_tenant']);

/**
 * The token request failed: nothing reached the Connector, so the reply is not in doubt. A refusal
 * of the app's credentials pauses the channel (the reply waits for them to be put right); a token
 * service that did not answer is a network error like any other.
 */
function tokenError(error: unknown, what: string): ChannelApiError | NetworkError | undefined {
  const msal = msalErrorSchema.safeParse(error);
  if (!msal.success || !/Error$/.test(msal.data.name) || !('subError' in (error as object))) return undefined;
  const { errorCode, errorMessage, status } = msal.data;
  const firstLine = (errorMessage ?? '').split(/\r?\n/)[0]!.slice(0, 300);
  if (msal.data.name === 'ServerError' && (TOKEN_REFUSALS.has(errorCode) || status === 400 || status === 401)) {
    return new ChannelApiError(
      `Bot Framework ${what}: Microsoft Entra ID refused the bot's credentials (${errorCode}${firstLine ? `: ${firstLine}` : ''}); check MicrosoftAppId, MicrosoftAppPassword and MicrosoftAppTenantId`,
      { channel: 'botframework', status: status ?? 401, code: errorCode, retryable: true, credentials: true },
      { cause: error },
    );
  }
  if (msal.data.name === 'ServerError' && status !== undefined && status >= 400) {
    return new ChannelApiError(`Bot Framework ${what}: the token service answered HTTP ${status} (${errorCode})`, { channel: 'botframework', status, code: errorCode, retryable: status >= 500 || status === 429 }, { cause: error });
  }
  return new NetworkError(`Bot Framework ${what}: no token from Microsoft Entra ID (${errorCode}${firstLine ? `: ${firstLine}` : ''}); nothing was sent`, { cause: error, delivery: 'not_sent' });
}

/** Maps what the Connector call threw to ChannelApiError (it answered) or NetworkError (it did not). */
export function toBotFrameworkError(error: unknown, what: string, now: number): ChannelApiError | NetworkError {
  if (error instanceof ChannelApiError || error instanceof NetworkError) return error;
  const token = tokenError(error, what);
  if (token) return token;
  const parsed = restErrorSchema.safeParse(error);
  const status = parsed.success ? parsed.data.statusCode : undefined;
  const message = parsed.success && parsed.data.message ? parsed.data.message : String(error);
  if (status === undefined) {
    return new NetworkError(`Bot Framework ${what}: the Connector did not answer (${message})`, { cause: error });
  }
  const retryAt = retryAfter(parsed.success ? parsed.data.response?.headers : undefined, now);
  return new ChannelApiError(
    `Bot Framework ${what} refused (HTTP ${status}): ${message}`,
    {
      channel: 'botframework',
      status,
      ...(parsed.success && parsed.data.code ? { code: parsed.data.code } : {}),
      // 401: the Connector does not accept the bot's token (wrong app id or tenant, a secret rotated):
      // every send fails alike. (A 403 is about one conversation: Teams' BotNotInConversationRoster.)
      retryable: status >= 500 || status === 429 || status === 401,
      ...(status === 401 ? { credentials: true } : {}),
      ...(retryAt !== undefined ? { retryAt } : {}),
    },
    { cause: error },
  );
}

/** A stable id for an activity that came without one (retries of it dedupe). */
/**
 * How deeply an activity's JSON may nest. Real ones nest a few levels (Teams' channelData, an
 * Adaptive Card a dozen or two); JSON.parse takes far deeper, but copying the conversation
 * reference (JSON.stringify) and botbuilder then overflow the stack: a 1 MiB body of brackets
 * answered 500 and logged a stack trace, before any token was looked at.
 */
const MAX_ACTIVITY_DEPTH = 64;

/** Whether `text` (JSON) nests objects and arrays deeper than `max` (brackets inside strings do not count). */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}

function activityKey(a: z.infer<typeof inboundActivitySchema>): string {
  const digest = createHash('sha256')
    .update(`${a.conversation?.id ?? ''}|${a.from?.id ?? ''}|${a.timestamp ?? ''}|${a.text ?? ''}`)
    .digest('hex');
  return `bf_${digest.slice(0, 32)}`;
}

/** The minimal response object CloudAdapter.process writes to (status, send, header, end). */
function createResponseRecorder(): { res: { socket: null; status(code: number): void; send(body: unknown): void; header(name: string, value: unknown): void; end(): void }; result(): ChannelResponse } {
  let status = 200;
  let body: unknown;
  return {
    res: {
      socket: null,
      status(code: number) {
        status = code;
      },
      send(b: unknown) {
        body = b;
      },
      header() {
        // CloudAdapter sets no headers we need to pass on.
      },
      end() {
        // The server writes the ChannelResponse itself.
      },
    },
    result: () => ({ status, ...(body !== undefined ? { body } : {}) }),
  };
}

/** Creates the Bot Framework channel adapter. */
export function createBotFrameworkChannel(deps: BotFrameworkChannelDeps): ChannelAdapter {
  const { config, store, clock, logger } = deps;
  const log = logger.child({ channel: 'botframework' });
  const hasCredentials = config.appId !== '';
  const localOnly = !hasCredentials && config.localOnly;
  const quiet = createLogThrottle();

  // Connections to the Connector (and the token service) that do not open in time are dropped;
  // a send that never answers is given up by the outbox sender's deadline.
  const agentSettings = { http: outboundHttpAgent(deps.outbound), https: outboundHttpsAgent(deps.outbound) };
  let auth: ConfigurationBotFrameworkAuthentication;
  try {
    auth = new ConfigurationBotFrameworkAuthentication(
      hasCredentials
        ? {
            MicrosoftAppId: config.appId,
            MicrosoftAppType: config.appType,
            ...(config.appPassword ? { MicrosoftAppPassword: config.appPassword } : {}),
            ...(config.tenantId ? { MicrosoftAppTenantId: config.tenantId } : {}),
          }
        : {}, // no app id: botbuilder disables authentication; allowed only behind the loopback guard
      undefined,
      undefined,
      undefined,
      { agentSettings },
    );
  } catch (error) {
    // botbuilder asserts missing pieces (e.g. the tenant id of a managed identity) with terse messages.
    throw new ConfigError([`MicrosoftApp*: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (_context, error) => {
    log.error({ err: error }, 'botframework: turn failed');
  };
  if (localOnly) {
    log.warn(
      'botframework: no Microsoft app credentials; BOTFRAMEWORK_LOCAL_ONLY accepts only loopback requests and loopback serviceUrls (never expose this)',
    );
  } else if (!hasCredentials) {
    log.error('botframework: neither Microsoft app credentials nor BOTFRAMEWORK_LOCAL_ONLY: /api/messages refuses every request');
  }

  let context: ChannelContext | undefined;
  let warnedRetries = false;

  /**
   * Drops the Connector client's own retry policies for this turn. The outbox retries with
   * backoff, honours Retry-After through `retryAt` and survives restarts; botbuilder's pipeline
   * would otherwise hold one send for up to a minute and multiply the attempts. botbuilder
   * ignores its `noRetryPolicy` option, so the policies are removed from the client's pipeline.
   */
  function withoutClientRetries(turn: TurnContext): void {
    const connector = turn.turnState.get(adapter.ConnectorClientKey) as unknown;
    const pipeline = (connector as { client?: { pipeline?: { removePolicy?: unknown } } } | undefined)?.client?.pipeline;
    if (pipeline && typeof pipeline.removePolicy === 'function') {
      (pipeline.removePolicy as (o: { phase: string }) => unknown).call(pipeline, { phase: 'Retry' });
    } else if (!warnedRetries) {
      warnedRetries = true;
      log.warn('botframework: could not turn off the Connector client retries; sends may retry inside botbuilder too');
    }
  }

  const capabilities: ChannelCapabilities = { ...BOTFRAMEWORK_CAPABILITIES, maxLength: { ...BOTFRAMEWORK_CAPABILITIES.maxLength } };

  function toInbound(activity: Activity, raw: z.infer<typeof inboundActivitySchema>): InboundMessage | undefined {
    if (raw.type !== ActivityTypes.Message || !raw.from || !raw.conversation) return undefined;
    const value = raw.value as { payload?: unknown } | undefined;
    const payload = typeof value?.payload === 'string' ? value.payload : undefined;
    const files = (raw.attachments ?? []).map((a) => `[${a.name ?? a.contentType ?? 'attachment'}]`).join(' ');
    const text = [raw.text ?? '', files].filter(Boolean).join(' ');
    if (!text && !payload) return undefined;
    const reference = TurnContext.getConversationReference(activity);
    return {
      channel: 'botframework',
      id: raw.id ?? activityKey(raw),
      visibility: 'private',
      customer: { platformId: raw.from.id, ...(raw.from.name ? { name: raw.from.name } : {}) },
      text: text || payload || '',
      sentAt: raw.timestamp && !Number.isNaN(Date.parse(raw.timestamp)) ? new Date(raw.timestamp).toISOString() : clock.now().toISOString(),
      ...(payload ? { payload } : {}),
      ref: JSON.parse(JSON.stringify(reference)) as Record<string, unknown>,
    };
  }

  async function handle(req: ChannelRequest): Promise<ChannelResponse> {
    if (!hasCredentials && !localOnly) {
      return { status: 403, body: { error: 'Bot Framework credentials are not configured' } };
    }
    // Behind a reverse proxy on this machine every request comes from loopback: a forwarding
    // header means the request really came from elsewhere.
    const forwarded = req.headers['x-forwarded-for'] ?? req.headers.forwarded ?? req.headers['x-real-ip'];
    if (localOnly && (!isLoopbackAddress(req.remoteAddress) || forwarded !== undefined)) {
      log.warn({ remoteAddress: req.remoteAddress, forwarded: forwarded !== undefined }, 'botframework: local-only mode refused a non-loopback request');
      return { status: 403, body: { error: 'local-only mode: loopback requests only' } };
    }
    let json: unknown;
    const text = req.rawBody.toString('utf8');
    if (nestsDeeperThan(text, MAX_ACTIVITY_DEPTH)) return { status: 400, body: { error: `the activity is nested more than ${MAX_ACTIVITY_DEPTH} levels deep` } };
    try {
      json = JSON.parse(text);
    } catch {
      return { status: 400, body: { error: 'the body is not a JSON activity' } };
    }
    const raw = inboundActivitySchema.safeParse(json);
    if (!raw.success) return { status: 400, body: { error: `not a Bot Framework activity: ${z.prettifyError(raw.error)}` } };
    if (localOnly && !isLoopbackUrl(raw.data.serviceUrl)) {
      log.warn({ serviceUrl: raw.data.serviceUrl }, 'botframework: local-only mode refused a non-loopback serviceUrl');
      return { status: 403, body: { error: 'local-only mode: serviceUrl must be a loopback address' } };
    }
    if (raw.data.type === ActivityTypes.Message) {
      // Every answer goes out through the conversation reference kept with the message: one that
      // could never be answered (no channel, a locale or bot id that is not a string) is refused
      // now, rather than accepted and its replies given up later.
      const reference = conversationReferenceSchema.safeParse(JSON.parse(JSON.stringify(TurnContext.getConversationReference(json as Partial<Activity>))));
      if (!reference.success) return { status: 400, body: { error: `the activity cannot be answered: ${z.prettifyError(reference.error)}` } };
    }
    if (hasCredentials) {
      // The token is checked here first: botbuilder refuses a bad one too, but prints a stack trace
      // to stderr for each (and answered 500 with the token service's error when it could not be
      // reached). Anyone can send one, so a refusal is logged once a minute at most.
      const authorization = req.headers.authorization;
      let refusal: ChannelResponse | undefined;
      if (!authorization) {
        refusal = { status: 401, body: { error: 'a Bot Framework token is required' } };
      } else {
        try {
          await auth.authenticateRequest({ ...(json as Activity) }, authorization);
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 401) {
            refusal = { status: 401, body: { error: 'the Bot Framework token is not valid' } };
          } else {
            if (quiet.take('token-check-failed').log) log.error({ err: error }, 'botframework: could not check a Bot Framework token (the token service may be unreachable)');
            return { status: 503, headers: { 'retry-after': '5' }, body: { error: 'the token cannot be checked now; deliver again later' } };
          }
        }
      }
      if (refusal) {
        const told = quiet.take('token-refused');
        if (told.log) {
          const more = told.suppressed > 0 ? { refusedSinceLastLine: told.suppressed } : {};
          log.warn({ remoteAddress: req.remoteAddress, ...more }, 'botframework: request without a valid Bot Framework token refused (more within a minute are not logged)');
        }
        return refusal;
      }
    }
    if (!context) return { status: 503, body: { error: 'the Bot Framework channel is not started yet' } };
    const receive = context.receive;
    const recorder = createResponseRecorder();
    // CloudAdapter answers 200 even when the turn failed (onTurnError swallows it): keep the
    // failure, so a message we could not record is answered 500 and not silently lost.
    let failure: unknown;
    await adapter.process({ method: 'POST', headers: req.headers, body: json as Record<string, unknown> }, recorder.res, async (turn) => {
      const msg = toInbound(turn.activity, raw.data);
      if (!msg) return;
      try {
        await receive(msg);
      } catch (error) {
        failure = error;
      }
    });
    if (failure !== undefined) {
      log.error({ err: failure }, 'botframework: could not accept a message');
      return { status: 500, body: { error: 'the message could not be recorded; try again' } };
    }
    return recorder.result();
  }

  /** Runs `logic` in a proactive turn of the referenced conversation. */
  async function inConversation(ref: Record<string, unknown> | undefined, what: string, logic: (turn: TurnContext) => Promise<void>): Promise<void> {
    const parsed = conversationReferenceSchema.safeParse(ref);
    if (!parsed.success) {
      throw new ChannelApiError(`Bot Framework ${what}: the conversation has no valid conversation reference`, {
        channel: 'botframework',
        status: 0,
        code: 'no_reference',
        retryable: false,
      });
    }
    if (localOnly && !isLoopbackUrl(parsed.data.serviceUrl)) {
      throw new ChannelApiError(`Bot Framework ${what}: local-only mode sends only to loopback serviceUrls`, {
        channel: 'botframework',
        status: 0,
        code: 'not_loopback',
        retryable: false,
      });
    }
    // CloudAdapter hands errors inside a turn to onTurnError and does not rethrow them: keep the
    // first one and throw it here, so the outbox sees the failure.
    let failure: { error: unknown } | undefined;
    // The reference is what TurnContext.getConversationReference produced, round-tripped through
    // the store as JSON; the schema checked the fields a send needs.
    const reference = parsed.data as unknown as Partial<ConversationReference>;
    try {
      await adapter.continueConversationAsync(config.appId, reference, async (turn) => {
        try {
          withoutClientRetries(turn);
          await logic(turn);
        } catch (error) {
          failure ??= { error };
        }
      });
    } catch (error) {
      failure ??= { error };
    }
    if (failure) throw toBotFrameworkError(failure.error, what, clock.now().getTime());
  }

  function messageActivity(item: OutboxItem): Partial<Activity> {
    const reply = item.reply;
    // A survey's scores are suggested actions, as quick replies are.
    if ((reply.kind === 'quick_replies' || reply.kind === 'survey') && reply.options.length > 0) {
      return {
        type: ActivityTypes.Message,
        text: reply.text,
        suggestedActions: {
          to: [],
          // messageBack shows the title as the user's message and returns the payload in `value`.
          actions: reply.options.slice(0, capabilities.quickReplies).map((o) => ({
            type: 'messageBack',
            title: o.title,
            text: o.title,
            displayText: o.title,
            value: { payload: o.payload },
          })),
        },
      };
    }
    return { type: ActivityTypes.Message, text: reply.text };
  }

  async function transcriptOf(conversation: Conversation): Promise<Transcript> {
    const messages = await store.conversations.listMessages({ conversationId: conversation.id });
    return {
      activities: messages
        .filter((m) => m.direction !== 'note')
        .map((m) => ({
          type: ActivityTypes.Message,
          text: m.text,
          timestamp: new Date(m.at),
          from: m.author.kind === 'customer' ? { id: conversation.customerId, name: 'customer', role: 'user' } : { id: 'sportello', name: m.author.kind === 'operator' ? m.author.name : 'bot', role: 'bot' },
        })) as Activity[],
    };
  }

  const route: ChannelRoute = { method: 'POST', path: BOTFRAMEWORK_PATH, handle };

  return {
    name: 'botframework',
    capabilities,
    routes: [route],

    async verify(): Promise<boolean> {
      // Requests come through /api/messages, where CloudAdapter checks the JWT; the generic
      // /webhooks/botframework route is not this channel's entry point.
      return false;
    },

    async parse(): Promise<InboundMessage[]> {
      return [];
    },

    async start(ctx: ChannelContext): Promise<void> {
      context = ctx;
    },

    async stop(): Promise<void> {
      context = undefined;
      agentSettings.http.destroy();
      agentSettings.https.destroy();
    },

    async send(item: OutboxItem): Promise<SendResult> {
      let platformId = '';
      try {
        await inConversation(item.ref, 'send', async (turn) => {
          const response = await turn.sendActivity(messageActivity(item));
          platformId = response?.id ?? '';
        });
      } catch (error) {
        // The Connector took the activity (2xx) and its answer could not be read (cut short, not
        // JSON): the customer has the reply. Sent, its id unknown; failing it showed a delivered
        // reply as failed, and sending it again would show it twice.
        if (!(error instanceof ChannelApiError && error.details.status >= 200 && error.details.status < 300)) throw error;
        log.warn({ outboxId: item.id, err: error.message }, 'botframework: the Connector took a reply but its answer could not be read; counted as sent');
      }
      return { platformId };
    },

    async notify(event: DomainEvent, conversation: Conversation): Promise<void> {
      if (conversation.channel !== 'botframework') return;
      if (event.type === 'conversation.escalated') {
        const transcript = await transcriptOf(conversation);
        await inConversation(conversation.ref, 'handoff.initiate', async (turn) => {
          const handoffContext = { reason: event.reason, caseId: event.caseId, conversationId: event.conversationId, at: event.at };
          await turn.sendActivity(EventFactory.createHandoffInitiation(turn, handoffContext, transcript));
        });
        return;
      }
      const status =
        event.type === 'conversation.assigned'
          ? { state: 'accepted', message: undefined }
          : event.type === 'conversation.resolved'
            ? { state: 'completed', message: undefined }
            : event.type === 'conversation.returned_to_bot'
              ? { state: 'completed', message: 'returned to the bot' }
              : undefined;
      if (!status) return;
      await inConversation(conversation.ref, 'handoff.status', async (turn) => {
        await turn.sendActivity(EventFactory.createHandoffStatus(turn.activity.conversation, status.state, status.message));
      });
    },
  };
}
