/**
 * @module actions/runner
 * Calls custom actions by name for the pipeline: each call within its action's time (default
 * 5 s; then it is abandoned and its signal aborted), its result checked with zod. A throw, a
 * timeout or a result that is neither a reply nor a handoff is a failure, which the pipeline
 * turns into a handoff (`handler_failed`). The customer's data is never logged: a failure is
 * logged with the action's name and what went wrong, the data it was given cut out.
 */
import type { QuickReplyOption } from '../core/types.js';
import type { ActionInput, ActionOutcome, ActionRunner } from '../core/ports.js';
import { redactPrivateData, type Logger } from '../util/logger.js';
import { actionResultSchema, DEFAULT_ACTION_TIMEOUT_MS, type Action } from './define.js';

/** Creates the runner of these actions (names must be unique: the loader checks it). */
export function createActionRunner(actions: readonly Action[], options: { logger: Logger }): ActionRunner {
  const byName = new Map(actions.map((a) => [a.name, a]));
  const { logger } = options;

  async function run(action: Action, input: ActionInput): Promise<ActionOutcome> {
    const timeoutMs = action.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`timed out after ${timeoutMs} ms`);
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    });
    // The action gets its own copy: nothing it does to the input reaches the turn.
    const given: ActionInput = { ...input, data: { ...input.data } };
    try {
      const raw: unknown = await Promise.race([Promise.resolve().then(() => action.handle(given, { signal: controller.signal })), timeUp]);
      const parsed = actionResultSchema.safeParse(raw);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'result'}: ${i.message}`).join('; ');
        return { kind: 'failed', error: `the result is neither { reply } nor { handoff: true } (${issues})` };
      }
      const result = parsed.data;
      if ('handoff' in result) return { kind: 'handoff', reason: result.reason };
      const quickReplies: QuickReplyOption[] = (result.quickReplies ?? []).map((q) => (typeof q === 'string' ? { title: q, payload: q } : q));
      return { kind: 'reply', text: result.reply, quickReplies };
    } catch (err) {
      return { kind: 'failed', error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    names: new Set(byName.keys()),
    async call(input) {
      const action = byName.get(input.handler);
      const started = Date.now();
      const outcome: ActionOutcome = action ? await run(action, input) : { kind: 'failed', error: `no action named ${input.handler}` };
      const ms = Date.now() - started;
      if (outcome.kind === 'failed') {
        logger.warn({ handler: input.handler, ms, error: scrub(outcome.error, input) }, 'custom action failed: the customer goes to a person');
      } else {
        logger.debug({ handler: input.handler, ms, outcome: outcome.kind }, 'custom action answered');
      }
      return outcome;
    },
  };
}

/** An error message fit for a log: the customer's data cut out, and anything else that looks private. */
function scrub(message: string, input: ActionInput): string {
  let text = message;
  for (const value of Object.values(input.data)) if (value) text = text.split(value).join('[redacted]');
  return redactPrivateData(text).slice(0, 300);
}
