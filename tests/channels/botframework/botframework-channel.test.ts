import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ClientAuthError, ServerError } from '@azure/msal-node';
import { createBotFrameworkChannel, toBotFrameworkError } from '../../../src/channels/botframework/botframework-channel.js';
import { isLoopbackAddress, isLoopbackUrl } from '../../../src/channels/botframework/index.js';
import type { BotFrameworkSettings } from '../../../src/channels/botframework/index.js';
import { ChannelApiError, NetworkError } from '../../../src/core/errors.js';
import { createFakeClock, type ChannelAdapter, type ChannelRequest, type ChannelRoute } from '../../../src/core/ports.js';
import type { Conversation, InboundMessage, OutboxItem, StoredMessage } from '../../../src/core/types.js';
import { createLowdbStore, type LowdbStore } from '../../../src/storage/lowdb/index.js';
import { createSilentLogger } from '../../../src/util/logger.js';
import { createFakeBotConnector, userMessage, type FakeBotConnector } from '../../fakes/bot-connector/fake-bot-connector.js';
import { OUTBOUND } from '../../helpers/outbound.js';
import { sendingItem } from '../../helpers/outbox-item.js';

const LOCAL: BotFrameworkSettings = { appId: '', appPassword: '', appType: 'SingleTenant', tenantId: '', localOnly: true };
const clock = createFakeClock('2026-11-23T10:00:00Z');

let connector: FakeBotConnector;
let channel: ChannelAdapter;
let route: ChannelRoute;
let received: InboundMessage[];
let store: LowdbStore;
let dir: string;

function create(config: BotFrameworkSettings): { channel: ChannelAdapter; route: ChannelRoute } {
  const c = createBotFrameworkChannel({
    config,
    store,
    clock,
    logger: createSilentLogger(),
    outbound: OUTBOUND,
  });
  return { channel: c, route: c.routes![0]! };
}

function post(body: unknown, overrides: Partial<ChannelRequest> = {}): ChannelRequest {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    query: {},
    rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    remoteAddress: '127.0.0.1',
    ...overrides,
  };
}

beforeAll(async () => {
  connector = await createFakeBotConnector();
});
afterAll(async () => {
  await connector.close();
});
beforeEach(async () => {
  connector.calls.length = 0;
  received = [];
  dir = mkdtempSync(join(tmpdir(), 'sportello-bf-unit-'));
  store = createLowdbStore({ file: join(dir, 'data.json') });
  await store.init();
  ({ channel, route } = create(LOCAL));
  await channel.start!({ receive: async (msg) => void received.push(msg), store: {} as never });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Receives one user message and returns the conversation the pipeline would keep. */
async function conversationFromMessage(): Promise<Conversation> {
  await route.handle(post(userMessage({ serviceUrl: connector.serviceUrl, text: 'voglio parlare con una persona', conversationId: 'conv-42' })));
  const msg = received[0]!;
  return {
    id: 'cv_1',
    key: `botframework:private:${msg.customer.platformId}`,
    channel: 'botframework',
    visibility: 'private',
    customerId: `botframework:${msg.customer.platformId}`,
    caseId: 'cs_1',
    state: 'queued',
    missStreak: 0,
    flags: [],
    ref: msg.ref,
    createdAt: '2026-11-23T10:00:00.000Z',
    updatedAt: '2026-11-23T10:00:00.000Z',
  };
}

function item(ref: Record<string, unknown> | undefined, overrides: Partial<OutboxItem> = {}): OutboxItem {
  return sendingItem({ channel: 'botframework', visibility: 'private', recipient: 'dl_user_1', reply: { kind: 'text', text: 'Siamo aperti dalle 9 alle 18.' }, ref, ...overrides });
}

describe('loopback helpers', () => {
  it('recognise loopback addresses and URLs only', () => {
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.10.0.3'].every(isLoopbackAddress)).toBe(true);
    expect(['10.0.0.1', '192.168.1.2', '::ffff:8.8.8.8', undefined, ''].some(isLoopbackAddress)).toBe(false);
    expect(['http://127.0.0.1:5005/', 'http://localhost:3000', 'https://[::1]:8443/'].every(isLoopbackUrl)).toBe(true);
    expect(['https://smba.trafficmanager.net/emea/', 'http://127.0.0.1.evil.example/', 'file:///etc/passwd', 'not a url'].some(isLoopbackUrl)).toBe(false);
  });
});

describe('POST /api/messages in local-only mode', () => {
  it('hands a user message to the pipeline with its conversation reference', async () => {
    const res = await route.handle(
      post(userMessage({ serviceUrl: connector.serviceUrl, text: 'Quali sono gli orari?', id: 'act-1', userId: 'dl_user_7', userName: 'Luca', conversationId: 'conv-7' })),
    );
    expect(res.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      channel: 'botframework',
      id: 'act-1',
      visibility: 'private',
      customer: { platformId: 'dl_user_7', name: 'Luca' },
      text: 'Quali sono gli orari?',
      ref: { serviceUrl: connector.serviceUrl, channelId: 'webchat', conversation: { id: 'conv-7' }, user: { id: 'dl_user_7' } },
    });
    expect(connector.calls).toEqual([]); // answers go out later, through the outbox
  });

  it('keeps the payload of a suggested action the customer picked', async () => {
    await route.handle(post(userMessage({ serviceUrl: connector.serviceUrl, text: 'Spedizioni', value: { payload: 'faq:spedizioni' } })));
    expect(received[0]).toMatchObject({ text: 'Spedizioni', payload: 'faq:spedizioni' });
  });

  it('accepts conversation updates and typing without creating messages', async () => {
    const update = { ...userMessage({ serviceUrl: connector.serviceUrl, text: '' }), type: 'conversationUpdate', membersAdded: [{ id: 'dl_user_1' }] };
    expect((await route.handle(post(update))).status).toBe(200);
    expect(received).toEqual([]);
  });

  it('refuses a request that does not come from this machine', async () => {
    const res = await route.handle(post(userMessage({ serviceUrl: connector.serviceUrl, text: 'ciao' }), { remoteAddress: '203.0.113.9' }));
    expect(res.status).toBe(403);
    expect(received).toEqual([]);
  });

  it('refuses a request forwarded by a proxy on this machine', async () => {
    const res = await route.handle(post(userMessage({ serviceUrl: connector.serviceUrl, text: 'ciao' }), { headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.7' } }));
    expect(res.status).toBe(403);
    expect(received).toEqual([]);
  });

  it('answers 500 when the message cannot be recorded, so it is not lost silently', async () => {
    await channel.start!({
      receive: async () => {
        throw new Error('disk full');
      },
      store: {} as never,
    });
    const res = await route.handle(post(userMessage({ serviceUrl: connector.serviceUrl, text: 'ciao' })));
    expect(res.status).toBe(500);
  });

  it('refuses an activity naming a serviceUrl elsewhere, so the server cannot be made to call it', async () => {
    const res = await route.handle(post(userMessage({ serviceUrl: 'https://attacker.example/', text: 'ciao' })));
    expect(res.status).toBe(403);
    expect(received).toEqual([]);
  });

  it('answers 400 to a body that is not an activity', async () => {
    expect((await route.handle(post('{not json'))).status).toBe(400);
    expect((await route.handle(post({ text: 'no type' }))).status).toBe(400);
    expect(received).toEqual([]);
  });
});

describe('POST /api/messages, bodies built to hurt', () => {
  /** A user message whose `conversation` (or `channelData`) holds `depth` nested arrays. */
  const nested = (depth: number, where: 'conversation' | 'channelData') => {
    const json = JSON.stringify(userMessage({ serviceUrl: connector.serviceUrl, text: 'ciao', conversationId: 'conv-deep' }));
    const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    return where === 'conversation' ? json.replace('"conversation":{', `"conversation":{"deep":${deep},`) : json.replace(/}$/, `,"channelData":{"deep":${deep}}}`);
  };

  it('refuses JSON nested beyond any activity with 400, before the token is looked at, rather than overflowing the stack (500)', async () => {
    const secured = create({ appId: '00000000-0000-0000-0000-000000000001', appPassword: 'secret', appType: 'SingleTenant', tenantId: '00000000-0000-0000-0000-0000000000aa', localOnly: false });
    await secured.channel.start!({ receive: async (msg) => void received.push(msg), store: {} as never });
    for (const where of ['conversation', 'channelData'] as const) {
      for (const r of [route, secured.route]) {
        const res = await r.handle(post(nested(300_000, where)));
        expect(res).toMatchObject({ status: 400, body: { error: expect.stringMatching(/nested/) } });
      }
    }
    expect(received).toEqual([]);
  });

  it('still takes an activity nested as deeply as real channels nest them (Teams channelData, an Adaptive Card)', async () => {
    const res = await route.handle(post(nested(40, 'channelData')));
    expect(res.status).toBe(200);
    expect(received).toHaveLength(1);
  });
});

describe('POST /api/messages with credentials', () => {
  it('reports incomplete managed-identity settings as a configuration error', () => {
    expect(() => create({ appId: '00000000-0000-0000-0000-000000000001', appPassword: '', appType: 'UserAssignedMSI', tenantId: '', localOnly: false })).toThrow(
      /MicrosoftAppTenantId is required for MSI/,
    );
  });

  it('refuses an activity without a Bot Framework token, even from loopback', async () => {
    const secured = create({ appId: '00000000-0000-0000-0000-000000000001', appPassword: 'secret', appType: 'SingleTenant', tenantId: '00000000-0000-0000-0000-0000000000aa', localOnly: false });
    await secured.channel.start!({ receive: async (msg) => void received.push(msg), store: {} as never });
    const res = await secured.route.handle(post(userMessage({ serviceUrl: connector.serviceUrl, text: 'ciao' })));
    expect(res.status).toBe(401);
    expect(received).toEqual([]);
  });

  it('refuses an activity whose token is not a valid Bot Framework JWT', async () => {
    const secured = create({ appId: '00000000-0000-0000-0000-000000000001', appPassword: 'secret', appType: 'SingleTenant', tenantId: '00000000-0000-0000-0000-0000000000aa', localOnly: false });
    await secured.channel.start!({ receive: async (msg) => void received.push(msg), store: {} as never });
    const res = await secured.route.handle(
      post(userMessage({ serviceUrl: connector.serviceUrl, text: 'ciao' }), { headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' } }),
    );
    expect(res.status).toBe(401);
    expect(received).toEqual([]);
  });
});

describe('sending', () => {
  it('delivers a reply proactively to the stored conversation', async () => {
    const conversation = await conversationFromMessage();
    const result = await channel.send(item(conversation.ref));
    expect(connector.calls).toHaveLength(1);
    const call = connector.calls[0]!;
    expect(call.conversationId).toBe('conv-42');
    expect(call.activity).toMatchObject({ type: 'message', text: 'Siamo aperti dalle 9 alle 18.', conversation: { id: 'conv-42' }, recipient: { id: 'dl_user_1' } });
    expect(result.platformId).toBe(`bot-act-1`);
  });

  it('renders quick replies as messageBack suggested actions carrying the payload', async () => {
    const conversation = await conversationFromMessage();
    await channel.send(
      item(conversation.ref, {
        reply: { kind: 'quick_replies', text: 'Intendevi…', options: [{ title: 'Spedizioni', payload: 'faq:spedizioni' }, { title: 'Resi', payload: 'faq:resi' }] },
      }),
    );
    expect(connector.calls[0]?.activity.suggestedActions).toMatchObject({
      actions: [
        { type: 'messageBack', title: 'Spedizioni', value: { payload: 'faq:spedizioni' } },
        { type: 'messageBack', title: 'Resi', value: { payload: 'faq:resi' } },
      ],
    });
  });

  it('counts a reply the Connector took (200) as sent even when its answer is cut short, rather than sending it again', async () => {
    const conversation = await conversationFromMessage();
    connector.garbleNext('{"id":"bot-act-');
    // Before: a ChannelApiError "refused (HTTP 200)", not retryable: a delivered reply shown as failed.
    expect(await channel.send(item(conversation.ref))).toEqual({ platformId: '' });
    expect(connector.calls).toHaveLength(1);
    // A Connector that refuses is still a failure.
    connector.failNext({ status: 400, code: 'BadArgument', message: 'no' });
    await expect(channel.send(item(conversation.ref))).rejects.toMatchObject({ details: { status: 400, retryable: false } });
  });

  it('refuses to send without a conversation reference', async () => {
    const error = await channel.send(item(undefined)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelApiError);
    expect((error as ChannelApiError).details.retryable).toBe(false);
  });

  it('refuses to send to a non-loopback serviceUrl in local-only mode', async () => {
    const conversation = await conversationFromMessage();
    const error = await channel.send(item({ ...conversation.ref, serviceUrl: 'https://attacker.example/' })).catch((e: unknown) => e);
    expect((error as ChannelApiError).details).toMatchObject({ code: 'not_loopback', retryable: false });
    expect(connector.calls).toEqual([]);
  });

  it.each([
    [503, 'ServiceUnavailable', true],
    [403, 'Forbidden', false],
    [404, 'ConversationNotFound', false],
    // The Connector refuses the bot's token: every send would fail alike; the channel waits for the credentials.
    [401, 'Unauthorized', true],
  ])('maps a Connector HTTP %i (%s) to retryable=%s', async (status, code, retryable) => {
    const conversation = await conversationFromMessage();
    connector.failNext({ status, code, message: `${code} from the fake` });
    const error = await channel.send(item(conversation.ref)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelApiError);
    expect((error as ChannelApiError).details).toMatchObject({ channel: 'botframework', status, retryable });
    expect((error as ChannelApiError).details.credentials === true).toBe(status === 401);
  });

  // What MSAL throws when the token request to Microsoft Entra ID fails, before any call to the Connector
  // (MSAL needs an https authority it can discover: its own error classes stand in for that exchange).
  it('maps a token request Entra ID refused to the channel’s credentials, and one that never got an answer to a network error with nothing sent', () => {
    const now = clock.now().getTime();
    const refused = toBotFrameworkError(new ServerError('invalid_client', 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0f\r\nCorrelation ID: 1a', undefined, undefined, 401), 'send', now);
    expect(refused).toBeInstanceOf(ChannelApiError);
    expect((refused as ChannelApiError).details).toMatchObject({ status: 401, code: 'invalid_client', retryable: true, credentials: true });
    expect(refused.message).toMatch(/refused the bot's credentials \(invalid_client: AADSTS7000215: Invalid client secret provided\.\); check MicrosoftAppId/);

    const unreachable = toBotFrameworkError(new ClientAuthError('network_error', 'Network request failed'), 'send', now);
    expect(unreachable).toBeInstanceOf(NetworkError);
    // Not in doubt: the activity never left (it was never even sent to the Connector).
    expect((unreachable as NetworkError).delivery).toBe('not_sent');
    expect(unreachable.message).toMatch(/no token from Microsoft Entra ID.*nothing was sent/);

    const down = toBotFrameworkError(new ServerError('temporarily_unavailable', 'AADSTS90033: A transient error has occurred.', undefined, undefined, 503), 'send', now);
    expect((down as ChannelApiError).details).toMatchObject({ status: 503, retryable: true });
    expect((down as ChannelApiError).details.credentials).toBeUndefined();
  });

  it('honours Retry-After on a 429', async () => {
    const conversation = await conversationFromMessage();
    connector.failNext({ status: 429, code: 'TooManyRequests', message: 'slow down', headers: { 'retry-after': '7' } });
    const error = (await channel.send(item(conversation.ref)).catch((e: unknown) => e)) as ChannelApiError;
    expect(error.details).toMatchObject({ status: 429, retryable: true, retryAt: clock.now().getTime() + 7000 });
  });

  it('maps an unreachable Connector to NetworkError', async () => {
    const conversation = await conversationFromMessage();
    const error = await channel.send(item({ ...conversation.ref, serviceUrl: 'http://127.0.0.1:1/' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
  });
});

describe('handoff events', () => {
  it('emits handoff.initiate with the reason and the transcript on escalation', async () => {
    const conversation = await conversationFromMessage();
    const messages: StoredMessage[] = [
      { id: 'm1', conversationId: 'cv_1', caseId: 'cs_1', direction: 'in', author: { kind: 'customer' }, text: 'voglio parlare con una persona', visibility: 'private', at: '2026-11-23T10:00:00.000Z' },
      { id: 'm2', conversationId: 'cv_1', caseId: 'cs_1', direction: 'note', author: { kind: 'bot' }, text: 'internal', visibility: 'private', at: '2026-11-23T10:00:01.000Z' },
    ];
    const read = await store.conversations.loadContext({ key: conversation.key, customerId: conversation.customerId });
    await store.conversations.commit({ expect: read.revisions, conversations: [conversation], messages, outbox: [], events: [] });
    await channel.notify!({ type: 'conversation.escalated', conversationId: 'cv_1', caseId: 'cs_1', reason: 'human_request', at: '2026-11-23T10:00:02.000Z' }, conversation);
    const event = connector.calls[0]?.activity as { type: string; name: string; value: unknown; attachments: Array<{ name: string; content: { activities: Array<{ text: string }> } }> };
    expect(event).toMatchObject({ type: 'event', name: 'handoff.initiate', value: { reason: 'human_request', caseId: 'cs_1', conversationId: 'cv_1' } });
    expect(event.attachments[0]?.name).toBe('Transcript');
    expect(event.attachments[0]?.content.activities.map((a) => a.text)).toEqual(['voglio parlare con una persona']);
  });

  it('emits handoff.status accepted when an operator claims, completed when resolved', async () => {
    const conversation = await conversationFromMessage();
    await channel.notify!({ type: 'conversation.assigned', conversationId: 'cv_1', operatorId: 'op_1', at: '2026-11-23T10:01:00.000Z' }, conversation);
    await channel.notify!({ type: 'conversation.resolved', conversationId: 'cv_1', caseId: 'cs_1', at: '2026-11-23T10:05:00.000Z' }, conversation);
    expect(connector.calls.map((c) => [c.activity.name, (c.activity.value as { state: string }).state])).toEqual([
      ['handoff.status', 'accepted'],
      ['handoff.status', 'completed'],
    ]);
  });

  it('ignores events of other channels', async () => {
    const conversation = await conversationFromMessage();
    await channel.notify!({ type: 'conversation.resolved', conversationId: 'cv_1', caseId: 'cs_1', at: '2026-11-23T10:05:00.000Z' }, { ...conversation, channel: 'messenger' });
    expect(connector.calls).toEqual([]);
  });
});
