/**
 * @module actions/define
 * A custom action: code of the brand's that answers an FAQ entry naming it (`handler: NAME`).
 * `defineAction({ name, handle })` in a file of the actions folder (ACTIONS_DIR, default
 * `actions/`), loaded at start. What `handle` returns is checked with zod (`actionResultSchema`):
 * a reply (text, optional quick replies) or a handoff to a person with a reason for the operators.
 */
import { z } from 'zod';
import type { ActionInput } from '../core/ports.js';

export type { ActionInput, ActionOutcome, ActionRunner } from '../core/ports.js';

/** An action's name: kebab-case, as an FAQ entry's `handler` names it. */
export const ACTION_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** How long an action may take when it does not say (the customer is waiting). */
export const DEFAULT_ACTION_TIMEOUT_MS = 5000;

/** Longest quick-reply title (Messenger's limit, as for the bot's own quick replies). */
const MAX_QUICK_REPLY_TITLE = 20;

const quickReply = z.union([
  z.string().trim().min(1).max(MAX_QUICK_REPLY_TITLE),
  z.strictObject({ title: z.string().trim().min(1).max(MAX_QUICK_REPLY_TITLE), payload: z.string().min(1).max(1000) }),
]);

/**
 * What an action returns (a module's `handle`, an HTTP action's JSON reply body):
 * `{ reply, quickReplies? }` — said to the customer where they asked (fitted to the channel;
 * quick replies where the channel has them, each a title of at most 20 characters, or
 * `{ title, payload }`) — or `{ handoff: true, reason? }`: a person takes over (escalation reason
 * `handler`), and `reason` is shown to the operators as a note. Anything else is a failure.
 */
export const actionResultSchema = z.union([
  z.strictObject({
    reply: z.string().trim().min(1).max(4000),
    quickReplies: z.array(quickReply).max(13).optional(),
  }),
  z.strictObject({
    handoff: z.literal(true),
    reason: z.string().trim().min(1).max(1000).optional(),
  }),
]);
export type ActionResult = z.input<typeof actionResultSchema>;

/** What `handle` is given besides the input. */
export interface ActionContext {
  /** Aborted when the action's time is up: pass it to `fetch` and the like. */
  signal: AbortSignal;
}

/** A custom action, as `defineAction` makes it. */
export interface Action {
  /** The name FAQ entries use (`handler: order-status`). */
  readonly name: string;
  /** The most the action may take, all retries included (default 5000 ms); then a person takes over. */
  readonly timeoutMs?: number;
  handle(input: ActionInput, context: ActionContext): ActionResult | Promise<ActionResult>;
}

/** The checked shape of an action (what the loader accepts from a module's exports). */
export const actionSchema = z.object({
  name: z.string({ error: 'name must be text' }).regex(ACTION_NAME, { error: 'name must be kebab-case (e.g. order-status)' }),
  timeoutMs: z.number({ error: 'timeoutMs must be a number' }).int().positive().max(60_000).optional(),
  handle: z.custom<Action['handle']>((v) => typeof v === 'function', { error: 'handle must be a function' }),
});

/**
 * Defines a custom action. Put it in a file of the actions folder as an export:
 *
 * ```js
 * // actions/order-status.js
 * import { defineAction } from 'sportello';
 * export default defineAction({
 *   name: 'order-status',
 *   async handle({ data, language }, { signal }) {
 *     const order = await lookUp(data.order_number, { signal });
 *     return { reply: language === 'it' ? `Il tuo ordine è ${order.status}.` : `Your order is ${order.status}.` };
 *   },
 * });
 * ```
 */
export function defineAction(action: Action): Action {
  const checked = actionSchema.safeParse(action);
  if (!checked.success) {
    throw new TypeError(`defineAction: ${checked.error.issues.map((i) => `${i.path.join('.') || 'action'}: ${i.message}`).join('; ')}`);
  }
  return Object.freeze({ ...action });
}
