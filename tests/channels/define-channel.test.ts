/**
 * `defineChannel` is a public helper: a brand writes its own channel with it, passes it to
 * `createSportello({ channels })`, and the channel is read from the environment, built (its
 * factory may be async: SDKs are loaded only when the channel is on) and served at
 * /webhooks/<name> like a built-in one. Mistakes in a definition are reported where it is written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSportello, defineChannel, allOrNone, loadConfig, z, type ChannelAdapter, type OutboxItem } from '../../src/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { ROOT } from '../helpers/app.js';

/** A small SMS channel as a brand would write it: token-checked webhook, JSON body, replies recorded. */
function smsChannel(outbox: OutboxItem[]) {
  return defineChannel({
    name: 'sms',
    title: 'SMS',
    env: z.object({ SMS_TOKEN: z.string().min(8).optional(), SMS_SENDER: z.string().optional() }),
    settings: (e) => allOrNone('sms', e, ['SMS_TOKEN', 'SMS_SENDER'], () => ({ token: e.SMS_TOKEN!, sender: e.SMS_SENDER! })),
    capabilities: { publicReplies: false, privateMessages: true, maxLength: { public: 160, private: 160 }, measure: (t: string) => t.length, quickReplies: 0, signsPublicReplies: false, maxThread: 1 },
    // Async, as a channel that loads its platform's SDK on demand.
    create: async (settings): Promise<ChannelAdapter> => {
      await new Promise((r) => setImmediate(r));
      return {
        name: 'sms',
        capabilities: { publicReplies: false, privateMessages: true, maxLength: { public: 160, private: 160 }, measure: (t) => t.length, quickReplies: 0, signsPublicReplies: false, maxThread: 1 },
        async verify(req) {
          return req.headers['x-sms-token'] === settings.token;
        },
        async parse(req) {
          const body = z.object({ id: z.string(), from: z.string(), text: z.string() }).parse(JSON.parse(req.rawBody.toString('utf8')));
          return [{ channel: 'sms', id: body.id, visibility: 'private', customer: { platformId: body.from }, text: body.text, sentAt: new Date().toISOString() }];
        },
        async send(item) {
          outbox.push(item);
          return { platformId: `sms-${outbox.length}` };
        },
      };
    },
  });
}

describe('defineChannel, the public helper', () => {
  it('refuses a definition with mistakes, naming each', () => {
    const bad = () =>
      defineChannel({
        name: 'SMS Gateway',
        title: '',
        env: z.object({ 'not a variable': z.string().optional() }),
        settings: () => ({ on: false }),
        capabilities: { publicReplies: true, privateMessages: true, maxLength: { public: 0, private: 160 }, measure: (t: string) => t.length, quickReplies: 0, signsPublicReplies: false, maxThread: 1 },
        create: () => {
          throw new Error('not reached');
        },
      });
    expect(bad).toThrow(TypeError);
    expect(bad).toThrow(/name: lower-case letters/);
    expect(bad).toThrow(/title:/);
    expect(bad).toThrow(/env: not a variable is not a variable name/);
    expect(bad).toThrow(/capabilities\.maxLength/);
  });

  it('refuses a brand channel that claims a built-in channel\'s name or variable', () => {
    const clash = defineChannel({ ...smsChannel([]), name: 'webchat' });
    expect(() => loadConfig({}, { channels: [clash] })).toThrow(/both claim the name webchat/);
  });

  it('reads a brand channel from the environment: half its credentials is a configuration error', () => {
    expect(() => loadConfig({ SMS_TOKEN: 'secret-token' }, { channels: [smsChannel([])] })).toThrow(ConfigError);
    expect(() => loadConfig({ SMS_TOKEN: 'secret-token' }, { channels: [smsChannel([])] })).toThrow(/SMS_SENDER: required to turn on sms/);
    expect(loadConfig({}, { channels: [smsChannel([])] }).channels.sms).toBeUndefined();
  });

  it('serves a brand channel at /webhooks/<name> and answers through it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sportello-define-channel-'));
    const outbox: OutboxItem[] = [];
    const sportello = await createSportello({
      env: {
        SPORTELLO_DATA: join(dir, 'store.json'),
        FAQ_DIR: join(ROOT, 'faq'),
        INTENTS_DIR: join(ROOT, 'intents'),
        FAQ_WATCH: 'false',
        LOG_LEVEL: 'silent',
        UNDERSTANDING_THREADS: '0',
        SMS_TOKEN: 'secret-token',
        SMS_SENDER: '+390000000',
      },
      channels: [smsChannel(outbox)],
    });
    try {
      expect([...sportello.channels.keys()]).toContain('sms');
      const url = await sportello.listen(0, '127.0.0.1');
      const post = (token: string, id: string) =>
        fetch(`${url}/webhooks/sms`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-sms-token': token },
          body: JSON.stringify({ id, from: '+391234567', text: 'what are your opening hours?' }),
        });
      expect((await post('wrong-token', 'm0')).status).toBe(401);
      expect((await post('secret-token', 'm1')).status).toBe(200);
      const deadline = Date.now() + 20_000;
      while (outbox.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // The opening hours, whole or short (160 characters, one message: the short answer when the whole is longer).
      expect(outbox[0]?.reply.text).toMatch(/Monday to Friday|Mon-Fri 9-18/);
    } finally {
      await sportello.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
