/**
 * @module channels/messenger/send-batcher
 * Send API calls that start in the same turn of the event loop leave together as one Graph API
 * batch request (`POST /vNN.N/` with `batch=[…]`, at most 50 calls each, through bottender's
 * Graph client): under load, one HTTP request and its overhead carry many replies.
 * Meta answers every call of a batch on its own (`{ code, headers, body }`), so each caller gets its
 * own result or its own error, exactly as from a single call. A send that is alone goes out as a
 * plain call. Two sends to one recipient never share a batch (Meta runs a batch's calls in
 * parallel, so their order would not be kept): the second waits for the next batch.
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
   * Queues one Send API call. `key` names its recipient (one per batch); `request` is the call as a
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

  /** Sends everything queued, as few batches as the size limit and the one-per-recipient rule allow. */
  function flush(): void {
    while (queue.length > 0) {
      const batch: Entry[] = [];
      const rest: Entry[] = [];
      const keys = new Set<string>();
      for (const entry of queue) {
        if (batch.length < maxBatch && !keys.has(entry.key)) {
          keys.add(entry.key);
          batch.push(entry);
        } else {
          rest.push(entry);
        }
      }
      queue = rest;
      void send(batch);
      // Whatever was held back for its recipient goes in the next turn, after this batch started.
      if (rest.length > 0 && rest.every((e) => keys.has(e.key))) break;
    }
    schedule();
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
