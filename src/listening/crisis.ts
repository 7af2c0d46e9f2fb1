/**
 * @module listening/crisis
 * Crisis mode (docs/listening.md): an operator opens a crisis on a topic (usually an alert's);
 * while it is open, a customer's message about that topic gets the approved holding statement for
 * its language and channel, is tagged `crisis:<topic>` and queued with a crisis's priority (the
 * decision table, `DecisionInput.crisis`); closing it ends that. The open crisis is a small value
 * in the store (`crisis` namespace), so every instance sharing the store sees it; opening and
 * closing are published on the bus (`crisis.opened`, `crisis.closed`: the console and other
 * instances hear them) and logged with the operator, time and topic.
 */
import { z } from 'zod';
import type { EventBus } from '../core/events.js';
import type { Clock, KeyValues } from '../core/ports.js';
import type { Language } from '../core/types.js';
import type { Logger } from '../util/logger.js';
import type { ListeningSettings } from './config.js';
import { contentTerms } from './text.js';

/** An open crisis. */
export interface OpenCrisis {
  id: string;
  topic: string;
  /** The topic's words (stems of both languages) a message must carry. */
  terms: string[];
  openedBy: string;
  openedAt: string;
  /** The listening file's rule that opened it (`openedBy` is then `system`). */
  rule?: string;
}

const openCrisisSchema = z.object({ id: z.string(), topic: z.string(), terms: z.array(z.string()), openedBy: z.string(), openedAt: z.string(), rule: z.string().optional() });

const NS = 'crisis';
const KEY = 'open';

/** What a message about the open crisis gets. */
export interface CrisisMatch {
  topic: string;
  /** The holding statement for the message's language and channel (undefined: none approved). */
  statement?: string;
}

/** Opens, closes and recognises the crisis of the moment. */
export interface CrisisDesk {
  current(): OpenCrisis | undefined;
  /** Opens one (replacing an open one); `rule`: opened by a rule of the listening file (listening/crisis-rules.ts). */
  open(topic: string, operatorId: string, options?: { rule?: string }): Promise<OpenCrisis>;
  close(operatorId: string): Promise<OpenCrisis | undefined>;
  /** Reads the open crisis from the store (at start, and when another instance changed it). */
  refresh(): Promise<void>;
  /** Whether a message is about the open crisis, and its holding statement. */
  match(text: string, language: Language, channel: string): CrisisMatch | undefined;
}

/** The stems a topic label stands for, in both languages. */
export function topicTerms(topic: string): string[] {
  return [...new Set([...contentTerms(topic, 'it'), ...contentTerms(topic, 'en')].map((t) => t.key))];
}

/** Creates the desk over the store's values and the bus. */
export function createCrisisDesk(deps: { values: KeyValues; bus: EventBus; clock: Clock; logger: Logger; settings: Pick<ListeningSettings, 'holdingStatements'> }): CrisisDesk {
  let open: OpenCrisis | undefined;

  function statementFor(language: Language, channel: string): string | undefined {
    const list = deps.settings.holdingStatements;
    return (
      list.find((s) => s.language === language && s.channel === channel)?.text ??
      list.find((s) => s.language === language && s.channel === undefined)?.text ??
      list.find((s) => s.channel === undefined)?.text
    );
  }

  return {
    current: () => open,

    async open(topic, operatorId, options = {}) {
      const label = topic.trim().replace(/\s+/g, ' ').slice(0, 120);
      const terms = topicTerms(label);
      if (terms.length === 0) throw new Error(`"${topic}" has no words to recognise messages by`);
      const at = deps.clock.now().toISOString();
      const rule = options.rule;
      const crisis: OpenCrisis = { id: `crisis_${Date.parse(at).toString(36)}`, topic: label, terms, openedBy: operatorId, openedAt: at, ...(rule ? { rule } : {}) };
      await deps.values.set(NS, KEY, JSON.stringify(crisis));
      open = crisis;
      deps.logger.warn({ crisisId: crisis.id, topic: label, operatorId, at, ...(rule ? { rule } : {}) }, 'crisis opened');
      await deps.bus.publish({ type: 'crisis.opened', crisisId: crisis.id, topic: label, operatorId, at, ...(rule ? { rule } : {}) });
      return crisis;
    },

    async close(operatorId) {
      await this.refresh();
      const was = open;
      if (!was) return undefined;
      await deps.values.delete(NS, KEY);
      open = undefined;
      const at = deps.clock.now().toISOString();
      deps.logger.warn({ crisisId: was.id, topic: was.topic, operatorId, at }, 'crisis closed');
      await deps.bus.publish({ type: 'crisis.closed', crisisId: was.id, topic: was.topic, operatorId, at });
      return was;
    },

    async refresh() {
      const raw = await deps.values.get(NS, KEY);
      if (raw === undefined) {
        open = undefined;
        return;
      }
      try {
        open = openCrisisSchema.parse(JSON.parse(raw));
      } catch {
        deps.logger.error('the stored open crisis is not readable; no crisis is open');
        open = undefined;
      }
    },

    match(text, language, channel) {
      if (!open) return undefined;
      const keys = new Set(contentTerms(text, language).map((t) => t.key));
      const found = open.terms.filter((t) => keys.has(t)).length;
      // A topic of one or two words: all of them; a longer one: two.
      if (found < Math.min(open.terms.length, 2)) return undefined;
      const statement = statementFor(language, channel);
      return { topic: open.topic, ...(statement ? { statement } : {}) };
    },
  };
}
