/**
 * @module actions
 * Custom actions (docs/extending.md, "Custom actions"): an FAQ entry names one with
 * `handler: NAME`; the brand writes it as a module (`defineAction`) or serves it over HTTP
 * (`actions/NAME.yaml`, signed with ACTIONS_SECRET). `createActions` loads the folder and gives
 * the pipeline its runner; the public API is `defineAction` and the types below.
 */
import type { ActionRunner } from '../core/ports.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../util/logger.js';
import type { Action } from './define.js';
import { httpAction } from './http.js';
import { loadActions } from './load.js';
import { createActionRunner } from './runner.js';

export { defineAction, actionResultSchema, DEFAULT_ACTION_TIMEOUT_MS } from './define.js';
export type { Action, ActionContext, ActionInput, ActionOutcome, ActionResult, ActionRunner } from './define.js';
export { httpAction, type ActionRequestBody, type HttpActionSpec } from './http.js';
export { loadActions, type LoadedActions } from './load.js';
export { createActionRunner } from './runner.js';

/** Options of `createActions`. */
export interface ActionsOptions {
  /** The actions folder (ACTIONS_DIR). */
  dir: string;
  /** ACTIONS_SECRET: the whsec_… secrets HTTP actions are signed with (several during a rotation). */
  secrets: readonly string[];
  /** Actions given in code (the conversation-test runner's stubs, an embedding program): they replace the folder's of the same name. */
  extra?: readonly Action[];
  logger: Logger;
}

/** Loads the actions folder and makes the runner; throws ConfigError listing every problem. */
export async function createActions(options: ActionsOptions): Promise<ActionRunner> {
  const loaded = await loadActions(options.dir);
  const replaced = new Set((options.extra ?? []).map((a) => a.name));
  const problems: string[] = [];
  const actions: Action[] = loaded.modules.filter((m) => !replaced.has(m.action.name)).map((m) => m.action);
  for (const { spec, file } of loaded.http) {
    if (replaced.has(spec.name)) continue;
    if (options.secrets.length === 0) {
      problems.push(`${file}: the HTTP action "${spec.name}" is signed with ACTIONS_SECRET, which is not set (whsec_ followed by base64, e.g. from \`openssl rand -base64 32\`)`);
      continue;
    }
    const url = new URL(spec.url);
    if (url.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      options.logger.warn({ action: spec.name, file }, 'an HTTP action is called over plain http: the customer data it is sent crosses the network unencrypted; use https outside your own machine');
    }
    actions.push(httpAction(spec, { secrets: options.secrets }));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return createActionRunner([...actions, ...(options.extra ?? [])], { logger: options.logger });
}
