/**
 * @module classifier/understanding-worker
 * The body of an understanding worker thread (see understanding-pool): takes the models the main
 * thread trained (as data: it never trains) and answers batches of `understand` calls with them. Models are numbered by the pool;
 * it tells the worker when an old one may go.
 */
import { parentPort } from 'node:worker_threads';
import type { Understander } from '../core/ports.js';
import { understanderFromModel } from './index.js';
import type { FromWorker, ToWorker } from './understanding-pool.js';

const port = parentPort;
if (!port) throw new Error('understanding-worker runs in a worker thread');

const models = new Map<number, Understander>();
const post = (message: FromWorker) => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load':
      try {
        models.set(message.model, understanderFromModel(message.snapshot, message.options));
        post({ type: 'loaded', model: message.model });
      } catch (err) {
        post({ type: 'failed', model: message.model, error: err instanceof Error ? err.message : String(err) });
      }
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
