/**
 * @module channels/messenger/graph-errors
 * Maps Graph API failures to ChannelApiError (Meta answered no) or NetworkError (no answer).
 */
import { z } from 'zod';
import { ChannelApiError, NetworkError } from '../../core/errors.js';
import { retryAfterAt } from '../../util/outbound.js';

/** Graph error codes where the same call may succeed later. */
const RETRYABLE_CODES = new Set([1, 2, 4, 17, 32, 341, 613, 80006]);
/** Graph code 190 (OAuthException): the Page access token expired, was revoked or is wrong. */
const TOKEN_CODE = 190;
/** Graph codes that mean "rate limited": honour the usage headers' wait. */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80006]);

const graphErrorBodySchema = z.object({
  error: z.looseObject({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.number().optional(),
    // messaging-api-messenger camel-cases response keys; raw axios does not.
    error_subcode: z.number().optional(),
    errorSubcode: z.number().optional(),
    fbtrace_id: z.string().optional(),
    fbtraceId: z.string().optional(),
  }),
});

const axiosLikeSchema = z.looseObject({
  message: z.string().optional(),
  response: z
    .looseObject({
      status: z.number(),
      data: z.unknown(),
      headers: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

const usageSchema = z.record(
  z.string(),
  z.array(z.looseObject({ estimated_time_to_regain_access: z.number().optional() })),
);

/** Minutes Meta asks us to wait, from `X-Business-Use-Case-Usage` (per business, per type). */
function regainAccessMs(headers: Record<string, unknown> | undefined): number | undefined {
  const raw = headers?.['x-business-use-case-usage'];
  if (typeof raw !== 'string') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined; // a garbled header only loses the hint; the backoff still applies
  }
  const usage = usageSchema.safeParse(json);
  if (!usage.success) return undefined;
  const minutes = Math.max(
    0,
    ...Object.values(usage.data).flatMap((list) => list.map((u) => u.estimated_time_to_regain_access ?? 0)),
  );
  return minutes > 0 ? minutes * 60_000 : undefined;
}

/** Sub-codes with a plain explanation operators can act on. */
const EXPLANATIONS: Record<number, string> = {
  2018278: 'the message is outside the allowed messaging window',
  2534022: 'the message is outside the allowed messaging window',
  2018108: 'the app is in development mode and this person has no role in it',
  1545041: 'the person is not available (blocked the Page or deleted the account)',
  2018001: 'no Messenger user matches this recipient (the PSID is of another Page, or the person deleted the account)',
};

/** Turns whatever the Graph call threw into a ChannelApiError or NetworkError. */
export function toChannelError(error: unknown, what: string, now: number): ChannelApiError | NetworkError {
  if (error instanceof ChannelApiError || error instanceof NetworkError) return error;
  const axiosLike = axiosLikeSchema.safeParse(error);
  const response = axiosLike.success ? axiosLike.data.response : undefined;
  if (!response) {
    const reason = axiosLike.success && axiosLike.data.message ? axiosLike.data.message : String(error);
    return new NetworkError(`Messenger ${what}: no answer from the Graph API (${reason})`, { cause: error });
  }
  const body = graphErrorBodySchema.safeParse(response.data);
  const status = response.status;
  // Retry-After (a 429 or 503 from Meta's edge) is honoured whatever the body says.
  const retryAfter = retryAfterAt(response.headers?.['retry-after'], now);
  if (!body.success) {
    return new ChannelApiError(
      `Messenger ${what}: Graph API answered HTTP ${status} without an error body`,
      { channel: 'messenger', status, retryable: status >= 500 || status === 429, ...(retryAfter !== undefined ? { retryAt: retryAfter } : {}) },
      { cause: error },
    );
  }
  const e = body.data.error;
  const code = e.code;
  const subcode = e.error_subcode ?? e.errorSubcode;
  const credentials = code === TOKEN_CODE;
  // A refused token is the channel's fault, not this reply's: retryable, so it waits for a renewed token.
  const retryable = credentials || status >= 500 || status === 429 || (code !== undefined && RETRYABLE_CODES.has(code));
  const regain = code !== undefined && RATE_LIMIT_CODES.has(code) ? regainAccessMs(response.headers) : undefined;
  const waits = [regain !== undefined ? now + regain : undefined, retryAfter].filter((w): w is number => w !== undefined);
  const retryAt = waits.length > 0 ? Math.max(...waits) : undefined;
  const explained = credentials
    ? `the Page access token is not valid any more (${e.message ?? 'expired or revoked'}): renew MESSENGER_PAGE_TOKEN`
    : subcode !== undefined
      ? EXPLANATIONS[subcode]
      : undefined;
  const ids = [code !== undefined ? `code ${code}` : undefined, subcode !== undefined ? `subcode ${subcode}` : undefined]
    .filter(Boolean)
    .join(', ');
  const message = `Messenger ${what} refused (HTTP ${status}${ids ? `, ${ids}` : ''}): ${explained ?? e.message ?? 'no message'}`;
  return new ChannelApiError(
    message,
    {
      channel: 'messenger',
      status,
      ...(code !== undefined ? { code } : {}),
      ...(subcode !== undefined ? { subcode } : {}),
      retryable,
      ...(retryAt !== undefined ? { retryAt } : {}),
      ...(credentials ? { credentials } : {}),
    },
    { cause: error },
  );
}
