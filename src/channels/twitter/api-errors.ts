/**
 * @module channels/twitter/api-errors
 * Maps what twitter-api-v2 throws to ChannelApiError (X answered no) or NetworkError (no answer):
 * 429 waits until `x-rate-limit-reset`, 5xx may be retried, "duplicate content" never is.
 */
import { ApiPartialResponseError, ApiRequestError, ApiResponseError } from 'twitter-api-v2';
import { z } from 'zod';
import { ChannelApiError, NetworkError } from '../../core/errors.js';

const v2ProblemSchema = z.looseObject({
  title: z.string().optional(),
  detail: z.string().optional(),
  type: z.string().optional(),
});
const v1ErrorsSchema = z.looseObject({
  errors: z.array(z.looseObject({ code: z.number().optional(), message: z.string().optional() })).min(1),
});

/** v1.1 code 187 ("Status is a duplicate") and v2's 403 "duplicate content". */
function isDuplicate(status: number, detail: string, v1Code: number | undefined): boolean {
  return v1Code === 187 || (status === 403 && /duplicate/i.test(detail));
}

/** Epoch ms of `x-rate-limit-reset` (Unix seconds), if present. */
function resetAt(error: ApiResponseError): number | undefined {
  if (error.rateLimit?.reset) return error.rateLimit.reset * 1000;
  const raw = error.headers?.['x-rate-limit-reset'];
  const seconds = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** Turns whatever an X API call threw into a ChannelApiError or NetworkError. */
export function toChannelError(error: unknown, what: string, now: number): ChannelApiError | NetworkError {
  if (error instanceof ChannelApiError || error instanceof NetworkError) return error;
  if (error instanceof ApiRequestError || error instanceof ApiPartialResponseError) {
    return new NetworkError(`X ${what}: no complete answer from the X API (${error.message})`, { cause: error });
  }
  if (!(error instanceof ApiResponseError)) {
    return new NetworkError(`X ${what}: the call failed before X answered (${String(error)})`, { cause: error });
  }
  const status = error.code;
  const v2 = v2ProblemSchema.safeParse(error.data);
  const v1 = v1ErrorsSchema.safeParse(error.data);
  const v1Code = v1.success ? v1.data.errors[0]?.code : undefined;
  const detail = (v2.success ? (v2.data.detail ?? v2.data.title) : undefined) ?? (v1.success ? v1.data.errors[0]?.message : undefined) ?? 'no detail';
  const type = v2.success ? v2.data.type : undefined;
  const code = v1Code ?? (type && type !== 'about:blank' ? type : undefined);
  if (status === 429 || status === 420) {
    const retryAt = resetAt(error) ?? now + 60_000;
    return new ChannelApiError(
      `X ${what}: rate limited (HTTP ${status}); retry after ${new Date(retryAt).toISOString()}`,
      { channel: 'twitter', status, ...(code !== undefined ? { code } : {}), retryable: true, retryAt },
      { cause: error },
    );
  }
  if (isDuplicate(status, detail, v1Code)) {
    return new ChannelApiError(
      `X ${what} refused as duplicate content (HTTP ${status}): X does not accept the same text twice; not retried`,
      { channel: 'twitter', status, code: code ?? 'duplicate_content', retryable: false },
      { cause: error },
    );
  }
  if (status === 401) {
    // The app's keys or the account's access token were revoked or regenerated: every call fails alike.
    return new ChannelApiError(
      `X ${what} refused (HTTP 401): X does not accept this app's credentials (${detail}); renew X_API_KEY/X_API_SECRET or X_ACCESS_TOKEN/X_ACCESS_SECRET`,
      { channel: 'twitter', status, ...(code !== undefined ? { code } : {}), retryable: true, credentials: true },
      { cause: error },
    );
  }
  return new ChannelApiError(
    `X ${what} refused (HTTP ${status}${code !== undefined ? `, ${code}` : ''}): ${detail}`,
    { channel: 'twitter', status, ...(code !== undefined ? { code } : {}), retryable: status >= 500 },
    { cause: error },
  );
}
