/**
 * @module events
 * Outbound events (webhooks): subscriptions (the webhooks file), versioned payloads, the recorder
 * that adds a change's deliveries to its commit, and the dispatcher that sends them by the
 * Standard Webhooks specification. See docs/extending.md, "Outbound events".
 */
export * from './subscriptions.js';
export * from './payloads.js';
export * from './recorder.js';
export * from './dispatcher.js';
