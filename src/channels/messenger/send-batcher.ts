/**
 * @module channels/messenger/send-batcher
 * Send API calls that start in the same turn of the event loop leave together as one Graph API
 * batch request (`POST /vNN.N/` with `batch=[…]`, at most 50 calls each, through bottender's
 * Graph client): under load, one HTTP request and its overhead carry many replies.
 * Meta answers every call of a batch on its own (`{ code, headers, body }`), so each caller gets its
 * own result or its own error, exactly as from a single call. A send that is alone goes out as a
 * plain call. A recipient has one call on its way at a time (Meta runs a batch's calls in
 * parallel, and two requests in flight could arrive in either order): the next waits for its answer.
 */

/** The most calls Meta accepts in one batch request. */
export const MAX_BATCH = 50;

/** One answer of a batch, as bottender hands it back (body parsed from its JSON string). */
const isAnswer = (value: unknown): value is { code: number; headers?: unknown; body?: unknown } =>
  typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number';

/** One call of a batch, as Graph takes it: a relative URL and a form-encoded body. */
export interface BatchRequest {
  method: 'POST';
  relativeUrl: string;
  body: string;
}

/** What the batcher needs: a way to send one batch request and get its answers, in order. */
export interface BatchClient {
  sendBatch(batch: BatchRequest[]): Promise<unknown[]>;
}

/** A failed call inside a batch, shaped like the HTTP error a single call throws (status, data, headers). */
export interface BatchCallFailure {
  message: string;
  response: { status: number; data: unknown; headers: Record<string, string> };
}

interface Entry {
  key: string;
  request: BatchRequest;
  single: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Collects sends and flushes them as batches. */
export interface SendBatcher {
  /**
   * Queues one Send API call. `key` names its recipient (one call on its way per recipient); `request` is the call as a
   * batch item; `single` makes the same call alone. Resolves with the call's response body or
   * rejects with its error (a `BatchCallFailure` for a call the batch answered with an error).
   */
  push(key: string, request: BatchRequest, single: () => Promise<unknown>): Promise<unknown>;
}

/** Creates a batcher over `client`. */
export function createSendBatcher(client: BatchClient, options: { maxBatch?: number } = {}): SendBatcher {
  const maxBatch = Math.min(MAX_BATCH, Math.max(1, options.maxBatch ?? MAX_BATCH));
  let queue: Entry[] = [];
  let scheduled = false;

  function schedule(): void {
    if (scheduled || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flush();
    });
  }

  /** Recipients with a call on its way: their next call waits for its answer. */
  const busy = new Set<string>();

  /** Sends everything queued that may go now, as few batches as the size limit allows. */
  function flush(): void {
    for (;;) {
      const batch: Entry[] = [];
      const rest: Entry[] = [];
      for (const entry of queue) {
        if (batch.length < maxBatch && !busy.has(entry.key)) {
          busy.add(entry.key);
          batch.push(entry);
        } else {
          rest.push(entry);
        }
      }
      queue = rest;
      if (batch.length === 0) return;
      void send(batch).finally(() => {
        // The recipients' next calls may go now, in order.
        for (const entry of batch) busy.delete(entry.key);
        schedule();
      });
    }
  }

  async function send(batch: Entry[]): Promise<void> {
    if (batch.length === 1) {
      const [entry] = batch as [Entry];
      await entry.single().then(entry.resolve, entry.reject);
      return;
    }
    let answers: unknown[];
    try {
      answers = await client.sendBatch(batch.map((e) => e.request));
    } catch (error) {
      // The batch request itself failed (no answer, or Meta refused the whole request).
      for (const entry of batch) entry.reject(error);
      return;
    }
    batch.forEach((entry, i) => {
      const answer = answers[i];
      if (!isAnswer(answer)) {
        // Meta answers null for a call that did not complete in time: its outcome is unknown.
        entry.reject(new Error('the Graph API batch returned no answer for this call (it did not complete in time)'));
      } else if (answer.code >= 200 && answer.code < 300) {
        entry.resolve(answer.body);
      } else {
        const failure: BatchCallFailure = {
          message: `Graph API batch call answered HTTP ${answer.code}`,
          response: { status: answer.code, data: answer.body, headers: headerRecord(answer.headers) },
        };
        entry.reject(failure);
      }
    });
  }

  return {
    push(key, request, single) {
      return new Promise((resolve, reject) => {
        queue.push({ key, request, single, resolve, reject });
        if (queue.length >= maxBatch) flush();
        else schedule();
      });
    },
  };
}

/** A batch answer's headers (`[{ name, value }]`) as a lower-cased record, as HTTP clients give them. */
function headerRecord(headers: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (!Array.isArray(headers)) return record;
  for (const h of headers as Array<{ name?: unknown; value?: unknown }>) {
    if (typeof h?.name === 'string' && typeof h.value === 'string') record[h.name.toLowerCase()] = h.value;
  }
  return record;
}
