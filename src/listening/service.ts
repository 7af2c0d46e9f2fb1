/**
 * @module listening/service
 * Listening inside a running Sportello: channels hand it the posts they hear (`ChannelContext.hear`);
 * it classes each, records it in the store (`heard`: time, author and reach, language, sentiment,
 * class, topic; the text with private data masked), passes care requests on to the pipeline (with
 * the topic of an open spike when they belong to one), and publishes spike alerts on the bus
 * (`crisis.alert`: the console's live feed and whatever listens). An alert may open a crisis by
 * rule (listening/crisis-rules.ts) before the post that raised it goes on to the pipeline, and is
 * handed to the e-mail of decision makers (listening/alert-mail.ts), which never makes it wait.
 */
import type { EventBus } from '../core/events.js';
import type { EventRecorder } from '../events/recorder.js';
import { maskPrivateData } from '../classifier/mask.js';
import type { HeardItems, Understander } from '../core/ports.js';
import type { InboundMessage } from '../core/types.js';
import { cleanInbound } from '../core/inbound-text.js';
import type { Logger } from '../util/logger.js';
import type { ListeningSettings } from './config.js';
import type { SpikeAlert } from './detector.js';
import type { CrisisRules, RuleOutcome } from './crisis-rules.js';
import { createListener, type HeardKind, type HeardResult } from './index.js';

/** Options of the service. */
export interface ListeningServiceDeps {
  settings: ListeningSettings;
  understander: () => Understander;
  /** The current corpus's labels that are a request for care by themselves (`privateEntryLabels`). */
  careLabels?: () => ReadonlySet<string>;
  answerThreshold: number;
  /** The pipeline's entry for care requests (accepts, processes in the background). */
  receive(msg: InboundMessage): Promise<void>;
  bus: EventBus;
  /** Where heard posts are kept (the store's `heard` port). */
  heard: HeardItems;
  logger: Logger;
  /** The brand's order-number pattern, for masking (config ORDER_NUMBER_PATTERN). */
  orderNumberPattern?: string;
  /** Makes the outbound `crisis.alert` deliveries (webhooks), written with the post that raised the alert. */
  recorder?: EventRecorder;
  /** Told of each heard post once it is stored, and of each alert raised (metrics). */
  onHeard?(channel: string, heardClass: string): void;
  onAlert?(update: boolean): void;
  /** The listening file's crisis rules: may open a crisis on an alert's topic. */
  crisisRules?: CrisisRules;
  /** Alerts by e-mail: queued, sent in the background. */
  alertMail?: { send(alert: SpikeAlert, crisis?: RuleOutcome): void };
}

/** Listening in a running instance. */
export interface ListeningService {
  /**
   * Hears one post (in the order posts were heard). A post already recorded (redelivered, found by
   * both search and the stream, or heard by another instance) is not counted again: undefined; a
   * care request among them still goes to the pipeline, whose inbox answers it once.
   */
  hear(msg: InboundMessage): Promise<HeardResult | undefined>;
}

/** How a message reached the brand, for listening. */
function kindOf(msg: InboundMessage): HeardKind {
  if (msg.visibility === 'private') return 'dm';
  return msg.heard ? 'post' : 'mention';
}

/** The bus event of an alert. */
export function alertEvent(alert: SpikeAlert) {
  return {
    type: 'crisis.alert' as const,
    spikeId: alert.spikeId,
    topic: alert.topic,
    windowMinutes: alert.windowMinutes,
    windowStart: alert.windowStart,
    volume: alert.volume,
    baseline: alert.baseline,
    negativeShare: alert.negativeShare,
    update: alert.update,
    samples: alert.samples,
    topAuthors: alert.topAuthors,
    at: alert.at,
  };
}

/** Creates the service. Posts are heard one at a time, in order (the detector's clock is theirs). */
export function createListeningService(deps: ListeningServiceDeps): ListeningService {
  const listener = createListener({ settings: deps.settings, understander: deps.understander, answerThreshold: deps.answerThreshold, ...(deps.careLabels ? { careLabels: deps.careLabels } : {}) });
  let chain: Promise<unknown> = Promise.resolve();
  return {
    hear(delivered) {
      const msg = cleanInbound(delivered);
      const run = async (): Promise<HeardResult | undefined> => {
        const known = await deps.heard.get(`${msg.channel}:${msg.id}`);
        if (known) {
          if (known.class === 'care') await deps.receive({ ...msg, ...(known.spike ? { spikeTopic: known.spike } : {}) });
          return undefined;
        }
        const heard = await listener.hear({
          id: msg.id,
          at: msg.sentAt,
          channel: msg.channel,
          kind: kindOf(msg),
          author: { id: msg.customer.platformId, ...(msg.customer.handle ? { handle: msg.customer.handle } : {}), ...(msg.customer.followers !== undefined ? { followers: msg.customer.followers } : {}) },
          text: msg.text,
        });
        const events = heard.alerts.map(alertEvent);
        const deliveries = deps.recorder ? events.flatMap((e) => deps.recorder!.forAlert(e)) : [];
        await deps.heard.add(
          [
            {
              id: `${msg.channel}:${msg.id}`,
              channel: msg.channel,
              platformId: msg.id,
              at: new Date(msg.sentAt).toISOString(),
              kind: kindOf(msg),
              author: { id: msg.customer.platformId, ...(msg.customer.handle ? { handle: msg.customer.handle } : {}), ...(msg.customer.followers !== undefined ? { followers: msg.customer.followers } : {}) },
              text: maskPrivateData(msg.text, deps.orderNumberPattern ? { orderNumberPattern: deps.orderNumberPattern } : {}).slice(0, 2000),
              language: heard.language,
              sentiment: heard.sentiment,
              class: heard.class,
              ...(heard.topic ? { topic: heard.topic } : {}),
              ...(heard.spike ? { spike: heard.spike } : {}),
            },
          ],
          deliveries.length ? { deliveries } : undefined,
        );
        if (deliveries.length) deps.recorder!.recorded();
        deps.onHeard?.(msg.channel, heard.class);
        for (const [i, event] of events.entries()) {
          deps.onAlert?.(event.update);
          deps.logger.warn({ topic: event.topic, volume: event.volume, baseline: event.baseline, update: event.update }, 'listening: spike alert');
          await deps.bus.publish(event);
          // A rule may open a crisis on the topic: before the post goes on, so it gets the holding statement too.
          const opened = await deps.crisisRules?.onAlert(heard.alerts[i]!);
          try {
            deps.alertMail?.send(heard.alerts[i]!, opened);
          } catch (err) {
            deps.logger.error({ err, topic: event.topic }, 'alert e-mail could not be queued');
          }
        }
        if (heard.class === 'care') await deps.receive({ ...msg, ...(heard.spike ? { spikeTopic: heard.spike } : {}) });
        return heard;
      };
      const result = chain.then(run, run);
      chain = result.catch(() => undefined);
      return result;
    },
  };
}
