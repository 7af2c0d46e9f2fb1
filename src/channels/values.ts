/**
 * @module channels/values
 * The one place channels touch the store's small values (poll cursors, caches, links between
 * platform ids): a channel reads and writes them through `channelValues(store, name)`, keys inside
 * its own namespace of `Store.values` (its name).
 */
import type { Store } from '../core/ports.js';

/** What a channel needs of the store for its values. */
export type ValuesStore = Pick<Store, 'values'>;

/** A channel's values. */
export interface ChannelValues {
  get(key: string): Promise<string | undefined>;
  /** `ttlMs`: how long the value is worth keeping (a cache); the store forgets it after that. */
  set(key: string, value: string, options?: { ttlMs?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The values of the channel `namespace` in `store`. */
export function channelValues(store: ValuesStore, namespace: string): ChannelValues {
  return {
    get: (key) => store.values.get(namespace, key),
    set: (key, value, options) => store.values.set(namespace, key, value, options),
    delete: (key) => store.values.delete(namespace, key),
  };
}
