/**
 * @module core/errors
 * Errors by layer, so a caller can tell "the platform said no" from "the call never completed"
 * from "our own code failed". Every error keeps its `cause`.
 */
import { deliveryOf } from '../util/outbound.js';

/** Base of every Sportello error. */
export class SportelloError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Configuration is missing or wrong; `problems` lists every one, each naming its variable. */
export class ConfigError extends SportelloError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** One problem in a corpus file, located as `file:line:column`. */
export interface CorpusProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A FAQ or intent file is broken; `problems` lists all of them at once. */
export class CorpusError extends SportelloError {
  constructor(readonly problems: readonly CorpusProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n'));
  }
}

/** The platform answered and refused (4xx/5xx with an error body). */
export class ChannelApiError extends SportelloError {
  constructor(
    message: string,
    readonly details: {
      channel: string;
      status: number;
      code?: number | string;
      subcode?: number;
      /** Retrying the same call later may succeed (5xx, 429). */
      retryable: boolean;
      /** When the platform asked us to wait until (epoch ms), e.g. from x-rate-limit-reset. */
      retryAt?: number;
      /**
       * The platform refused the app's credentials (an expired or revoked token, a wrong secret):
       * the channel is at fault, not this reply. Sent with `retryable: true`: the outbox pauses the
       * channel and the reply waits for the credentials to be put right, rather than being dropped.
       */
      credentials?: boolean;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The call to a platform never completed (DNS, refused connection, timeout). Always retryable.
 * `delivery` says whether the platform may have received it: `not_sent` when the connection never
 * opened, `unknown` when the request may have left (a timeout while waiting for the answer): a
 * retry of an unknown one may deliver the message twice (no platform takes an idempotency key).
 * Read from the cause's error codes unless given.
 */
export class NetworkError extends SportelloError {
  readonly delivery: 'not_sent' | 'unknown';
  constructor(message: string, options?: { cause?: unknown; delivery?: 'not_sent' | 'unknown' }) {
    super(message, options);
    this.delivery = options?.delivery ?? deliveryOf(options?.cause);
  }
}

/** Our own code failed while handling a message; `context` says which one. */
export class PipelineError extends SportelloError {
  constructor(message: string, readonly context: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A conversation was asked to move to a state its current state does not allow. */
export class IllegalTransitionError extends SportelloError {
  constructor(readonly from: string, readonly to: string) {
    super(`illegal conversation transition: ${from} → ${to}`);
  }
}

/** A request that the caller may not make (wrong operator, wrong state): shown to operators. */
export class ConflictError extends SportelloError {}

/**
 * The inbound message a turn processed was already processed (another instance, or a recovery
 * racing a live delivery): the turn is not written, so nothing is answered twice.
 */
export class AlreadyProcessedError extends ConflictError {
  constructor(readonly channel: string, readonly messageId: string) {
    super(`message ${channel}/${messageId} was already processed`);
  }
}

/** A store operation failed. */
export class StoreError extends SportelloError {}

/**
 * A webhook's body is not what its platform sends (not JSON, the wrong shape): the sender's
 * mistake, answered 400 with this message. Anything else a channel's `parse` throws is ours (the
 * store could not be read: 503, the platform delivers again later; a bug: 500) and says nothing
 * of the inside.
 */
export class WebhookBodyError extends SportelloError {
  readonly statusCode = 400;
}

/**
 * A turn was refused because a conversation or case it writes changed since the turn read it
 * (another instance, or an operator, wrote in between), or a conversation it creates got its key
 * taken meanwhile. Nothing of the turn was written: reload and decide again.
 */
export class TurnConflictError extends StoreError {}
