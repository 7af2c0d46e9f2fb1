/**
 * @module channels/console
 * The terminal channel behind `sportello chat`, and a recording channel that plays any
 * platform's capabilities for conversation tests (the replies it "sends" are collected).
 */
import { z } from 'zod';
import type { ChannelAdapter, ChannelCapabilities, PrivateReach } from '../../core/ports.js';
import type { Customer, OutboxItem } from '../../core/types.js';
import { defineChannel } from '../definition.js';

/** A terminal: private, generous length, numbered options instead of buttons. */
export const consoleCapabilities: ChannelCapabilities = {
  publicReplies: true,
  privateMessages: true,
  maxLength: { public: 4000, private: 4000 },
  measure: (text) => [...text].length,
  quickReplies: 5,
  signsPublicReplies: false,
  maxThread: 1,
  surveys: {},
};

/** Creates the terminal channel: each sent reply is handed to `write`. */
export function createConsoleChannel(write: (item: OutboxItem) => void): ChannelAdapter {
  return {
    name: 'console',
    capabilities: consoleCapabilities,
    async verify() {
      return true;
    },
    async parse() {
      return [];
    },
    async send(item) {
      write(item);
      return { platformId: item.id };
    },
  };
}

/** A channel that records what it sends, with the capabilities and reach rules it is given. */
export interface RecordingChannel extends ChannelAdapter {
  sent: OutboxItem[];
  /** Sets whether the brand may message a customer privately (X: the customer follows the brand). */
  setReach(customerPlatformId: string, reach: PrivateReach): void;
}

/** Creates a recording channel named `name` with `capabilities`. */
export function createRecordingChannel(name: string, capabilities: ChannelCapabilities): RecordingChannel {
  const sent: OutboxItem[] = [];
  const reach = new Map<string, PrivateReach>();
  let counter = 0;
  return {
    name,
    capabilities,
    sent,
    setReach(id, value) {
      reach.set(id, value);
    },
    async verify() {
      return true;
    },
    async parse() {
      return [];
    },
    async send(item) {
      sent.push(item);
      counter += 1;
      return { platformId: `${name}-${counter}` };
    },
    async privateReach(customer: Customer) {
      if (!capabilities.privateMessages) return 'unavailable';
      return reach.get(customer.platformId) ?? 'open';
    },
  };
}

/** The terminal channel: never turned on by the environment; `sportello chat` creates it with its printer. */
export const consoleChannel = defineChannel({
  name: 'console',
  title: 'the terminal',
  env: z.object({}),
  settings: () => ({ on: false }),
  sendSlots: 16,
  capabilities: consoleCapabilities,
  create: (settings: { write(item: OutboxItem): void }) => createConsoleChannel(settings.write),
});
