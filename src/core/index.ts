/** @module core — the domain: types, state machine, ports, events, errors. Imports nothing but util. */
export * from './types.js';
export * from './state.js';
export * from './ports.js';
export * from './events.js';
export * from './errors.js';
export * from './corpus.js';
export * from './inbound-text.js';
