/**
 * @module channels/values
 * The one place channels touch the store's small named values (poll cursors, caches, links
 * between platform ids). A channel reads and writes them through `channelValues(store, name)`,
 * keys inside its own namespace; the stored name is `namespace:key`.
 */
import type { Store } from '../core/ports.js';

/** What a channel needs of the store for its values. */
export type ValuesStore = Pick<Store, 'getValue' | 'setValue'>;

/** A channel's named values. */
export interface ChannelValues {
  get(key: string): Promise<string | undefined>;
  /** `ttlMs`: how long the value is worth keeping (a cache); the store may forget it after that. */
  set(key: string, value: string, options?: { ttlMs?: number }): Promise<void>;
}

/** The values of the channel `namespace` in `store`. */
export function channelValues(store: ValuesStore, namespace: string): ChannelValues {
  return {
    get: (key) => store.getValue(`${namespace}:${key}`),
    // The store keeps values until overwritten today; `ttlMs` is for a store with expiry.
    set: (key, value) => store.setValue(`${namespace}:${key}`, value),
  };
}
