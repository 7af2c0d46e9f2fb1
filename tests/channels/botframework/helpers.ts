/**
 * @module tests/channels/botframework/helpers
 * Shared set-up for the Bot Framework end-to-end tests: the channel's variables (local-only mode,
 * no Azure credentials) and a user's message posted to /api/messages as the Connector posts it.
 */
import { userMessage } from '../../fakes/bot-connector/fake-bot-connector.js';

/** The channel's variables: local-only mode, activities accepted from 127.0.0.1 without a token. */
export const BOTFRAMEWORK_ENV: Readonly<Record<string, string>> = { BOTFRAMEWORK_LOCAL_ONLY: 'true' };

/** Posts a user's message activity to `endpoint` (…/api/messages) as the Connector does; resolves with the HTTP status. */
export async function postUserMessage(endpoint: string, message: Parameters<typeof userMessage>[0]): Promise<number> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(userMessage(message)),
  });
  return res.status;
}
