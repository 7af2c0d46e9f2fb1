/**
 * @module classifier/understanding-worker
 * The body of an understanding worker thread (see understanding-pool): trains the models it is
 * sent and answers batches of `understand` calls with them. Models are numbered by the pool;
 * it tells the worker when an old one may go.
 */
import { parentPort } from 'node:worker_threads';
import type { Understander } from '../core/ports.js';
import { trainUnderstander } from './index.js';
import type { FromWorker, ToWorker } from './understanding-pool.js';

const port = parentPort;
if (!port) throw new Error('understanding-worker runs in a worker thread');

const models = new Map<number, Understander>();
const post = (message: FromWorker) => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'train':
      trainUnderstander(message.examples, message.options).then(
        (understander) => {
          models.set(message.model, understander);
          post({ type: 'trained', model: message.model });
        },
        (err: unknown) => post({ type: 'failed', model: message.model, error: err instanceof Error ? err.message : String(err) }),
      );
      return;
    case 'understand': {
      const understander = models.get(message.model);
      post({
        type: 'understood',
        results: message.requests.map(({ id, text, previousLanguage }) => {
          if (!understander) return { id, error: `model ${message.model} is not loaded` };
          try {
            return { id, value: understander.understand(text, { previousLanguage }) };
          } catch (err) {
            return { id, error: err instanceof Error ? err.message : String(err) };
          }
        }),
      });
      return;
    }
    case 'drop':
      models.delete(message.model);
      return;
  }
});
