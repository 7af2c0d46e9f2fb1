/** The outbound time limits tests hand to channels they build themselves (the production defaults). */
import type { OutboundLimits } from '../../src/util/outbound.js';

export const OUTBOUND: OutboundLimits = { connectTimeoutMs: 3000, timeoutMs: 10_000 };
