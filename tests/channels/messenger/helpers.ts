/**
 * @module tests/channels/messenger/helpers
 * Shared set-up for the Messenger adapter tests: config, signed requests, outbox items; for the
 * end-to-end tests, the fake Graph API for the page and the channel's variables pointing at it.
 */
import type { MessengerSettings } from '../../../src/channels/messenger/index.js';
import type { ChannelRequest, Clock } from '../../../src/core/ports.js';
import type { Operator, OutboxItem } from '../../../src/core/types.js';
import type { LiveKnowledge } from '../../../src/corpus/knowledge.js';
import { startChannelApp, type ChannelApp } from '../../helpers/channel-app.js';
import { sendingItem } from '../../helpers/outbox-item.js';
import { createFakeGraphApi, metaJson, metaSignatureHeaders, type FakeGraphApi } from '../../fakes/graph-api/fake-graph-api.js';

export const APP_SECRET = 'app-secret-for-tests';
export const PAGE_TOKEN = 'EAAG-page-token';
export const VERIFY_TOKEN = 'verify-me-please';
export const PAGE_ID = '104857600000001';

/** The channel's configuration pointing at a fake Graph API. */
export function messengerConfig(origin: string, overrides: Partial<MessengerSettings> = {}): MessengerSettings {
  return {
    appSecret: APP_SECRET,
    pageToken: PAGE_TOKEN,
    verifyToken: VERIFY_TOKEN,
    pageId: PAGE_ID,
    graphVersion: 'v23.0',
    graphOrigin: origin,
    handover: false,
    ...overrides,
  };
}

/** A webhook POST as Meta sends it (escaped JSON, both signature headers). */
export function signedRequest(body: unknown, secret = APP_SECRET): ChannelRequest {
  const raw = metaJson(body);
  return { method: 'POST', headers: metaSignatureHeaders(secret, raw), query: {}, rawBody: Buffer.from(raw, 'utf8'), remoteAddress: '127.0.0.1' };
}

/** An outbox item with sensible defaults. */
export function outboxItem(overrides: Partial<OutboxItem>): OutboxItem {
  return sendingItem({ channel: 'messenger', visibility: 'private', recipient: '6100000000000001', ...overrides });
}

/** The fake Graph API for the test page, on `clock`. */
export function startFakeGraph(clock: Clock): Promise<FakeGraphApi> {
  return createFakeGraphApi({ appSecret: APP_SECRET, pageToken: PAGE_TOKEN, pageId: PAGE_ID, clock });
}

/** The Messenger channel's variables for an instance talking to the fake Graph API at `origin`. */
export function messengerEnv(origin: string): Record<string, string> {
  return {
    MESSENGER_APP_SECRET: APP_SECRET,
    MESSENGER_PAGE_TOKEN: PAGE_TOKEN,
    MESSENGER_VERIFY_TOKEN: VERIFY_TOKEN,
    MESSENGER_PAGE_ID: PAGE_ID,
    MESSENGER_GRAPH_ORIGIN: origin,
  };
}

/** A running instance with the Messenger channel on the fake Graph API, and where Meta delivers its webhooks. */
export interface MessengerApp extends ChannelApp {
  graph: FakeGraphApi;
  /** `…/webhooks/messenger` */
  webhook: string;
}

/** Starts the fake Graph API and a real Sportello with the Messenger channel on it (`env`: more variables); close stops both. */
export async function startMessengerApp(options: { clock: Clock; env?: Record<string, string>; prefix?: string; knowledge?: LiveKnowledge; operators?: Operator[] }): Promise<MessengerApp> {
  const graph = await startFakeGraph(options.clock);
  const running = await startChannelApp({ ...options, env: { ...messengerEnv(graph.origin), ...options.env } });
  return {
    ...running,
    graph,
    webhook: `${running.base}/webhooks/messenger`,
    async close() {
      await running.close();
      await graph.close();
    },
  };
}
