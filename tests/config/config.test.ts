import { loadConfig, parseSchedule } from '../../src/config/config.js';
import { configProblems } from '../helpers/config.js';

const problems = configProblems;

describe('loadConfig', () => {
  it('gives working defaults with an empty environment: port 3978, the embedded store, web chat on, no platform channel', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3978);
    expect(config.dataFile).toBe('data/sportello.json');
    expect(Object.keys(config.channels)).toEqual(['webchat']);
    expect(config.handoff.timezone).toBe('Europe/Rome');
  });

  it('reads the actions folder and the whsec_ secrets of HTTP actions, several during a rotation; a wrong secret is named, not shown', () => {
    expect(loadConfig({}).actions).toEqual({ dir: 'actions', secrets: [] });
    const a = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const b = 'whsec_c2VjcmV0LXRoYXQtaXMtbG9uZy1lbm91Z2g=';
    expect(loadConfig({ ACTIONS_DIR: 'brand/actions', ACTIONS_SECRET: `${a}  ${b}` }).actions).toEqual({ dir: 'brand/actions', secrets: [a, b] });
    const found = problems({ ACTIONS_SECRET: 'my-plain-password' });
    expect(found).toEqual([expect.stringMatching(/^ACTIONS_SECRET: one or more whsec_<base64> secrets separated by spaces \(got a value that is not shown\)$/)]);
    expect(found.join('')).not.toContain('my-plain-password');
  });

  it('reads the follow-ups: bot close after 24 h, surveys off, a delay in minutes, hours or days; a wrong one is named', () => {
    expect(loadConfig({}).followUps).toEqual({
      botCloseMs: 24 * 3_600_000,
      surveys: false,
      surveyDelayMs: 24 * 3_600_000,
      surveyBusinessTime: false,
      surveyAfterBot: false,
      lowScore: 2,
      intervalMs: 60_000,
    });
    const c = loadConfig({ SURVEYS: 'true', SURVEY_DELAY: '90m', BOT_CLOSE_HOURS: '0', SURVEY_LOW_SCORE: '0', SURVEY_BUSINESS_TIME: 'true' });
    expect(c.followUps).toMatchObject({ surveys: true, surveyDelayMs: 90 * 60_000, botCloseMs: 0, lowScore: 0, surveyBusinessTime: true });
    expect(loadConfig({ SURVEY_DELAY: '3d' }).followUps.surveyDelayMs).toBe(3 * 86_400_000);
    expect(loadConfig({ SURVEY_DELAY: '1.5h' }).followUps.surveyDelayMs).toBe(5_400_000);
    expect(() => loadConfig({ SURVEY_DELAY: '3 weeks' })).toThrow(/SURVEY_DELAY: a number of minutes, hours or days/);
    expect(() => loadConfig({ SURVEY_LOW_SCORE: '6' })).toThrow(/SURVEY_LOW_SCORE/);
  });

  it('returns a frozen configuration', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.handoff)).toBe(true);
  });

  it('reports every wrong variable at once, each by name', () => {
    const found = problems({ PORT: 'eighty', TIMEZONE: 'Mars/Olympus', ANSWER_THRESHOLD: '7', DATABASE_URL: 'mysql://x' });
    expect(found).toHaveLength(4);
    expect(found.join('\n')).toMatch(/^PORT: /m);
    expect(found.join('\n')).toMatch(/^TIMEZONE: .*IANA/m);
    expect(found.join('\n')).toMatch(/^ANSWER_THRESHOLD: /m);
    expect(found.join('\n')).toMatch(/^DATABASE_URL: /m);
  });

  it('gives each channel its own send slots (its definition, SEND_SLOTS overrides) and refuses the old single window', () => {
    const slots = loadConfig({}).sendSlots;
    expect(slots).toMatchObject({ messenger: 128, twitter: 16, botframework: 32, webchat: 256 });
    expect(loadConfig({ SEND_SLOTS: 'messenger=8, twitter:2' }).sendSlots).toMatchObject({ messenger: 8, twitter: 2, webchat: 256 });
    expect(problems({ SEND_SLOTS: 'messenger=0' }).join('\n')).toMatch(/^SEND_SLOTS: messenger needs 1 to 1000/m);
    expect(problems({ SEND_SLOTS: 'fax=3' }).join('\n')).toMatch(/^SEND_SLOTS: no channel named "fax"/m);
    expect(problems({ SEND_SLOTS: 'messenger' }).join('\n')).toMatch(/^SEND_SLOTS: "messenger" is not CHANNEL=NUMBER/m);
    expect(problems({ OUTBOX_CONCURRENCY: '32' }).join('\n')).toMatch(/^OUTBOX_CONCURRENCY: replaced by SEND_SLOTS/m);
  });

  it('keeps everything by default; RETENTION_DAYS gives every channel and/or each channel a period, the web chat its anonymous visitors one', () => {
    expect(loadConfig({}).retention).toEqual({ days: {}, anonymousChannels: ['webchat'], intervalMs: 3_600_000 });
    expect(loadConfig({ RETENTION_DAYS: '730' }).retention).toMatchObject({ days: {}, otherDays: 730 });
    expect(loadConfig({ RETENTION_DAYS: '730, webchat=90,twitter:keep', RETENTION_DAYS_ANONYMOUS: '30', RETENTION_INTERVAL_MINUTES: '15' }).retention).toEqual({
      days: { webchat: 90, twitter: null },
      otherDays: 730,
      anonymousDays: 30,
      anonymousChannels: ['webchat'],
      intervalMs: 15 * 60_000,
    });
    expect(loadConfig({ RETENTION_DAYS: 'messenger=365' }).retention).toMatchObject({ days: { messenger: 365 } });
    expect(loadConfig({ RETENTION_DAYS: 'messenger=365' }).retention.otherDays).toBeUndefined();
    expect(problems({ RETENTION_DAYS: 'fax=3' }).join('\n')).toMatch(/^RETENTION_DAYS: no channel named "fax"/m);
    expect(problems({ RETENTION_DAYS: 'messenger=0' }).join('\n')).toMatch(/^RETENTION_DAYS: messenger needs 1 to 36500 days/m);
    expect(problems({ RETENTION_DAYS: '30,60' }).join('\n')).toMatch(/^RETENTION_DAYS: "60": one number for every channel at most/m);
    expect(problems({ RETENTION_DAYS: 'forever' }).join('\n')).toMatch(/^RETENTION_DAYS: every channel needs 1 to 36500 days/m);
    expect(problems({ RETENTION_DAYS_ANONYMOUS: '0' }).join('\n')).toMatch(/^RETENTION_DAYS_ANONYMOUS: /m);
  });

  it('limits every outbound call: connect 3 s and total 10 s by default, connect never above total', () => {
    expect(loadConfig({}).outbound).toEqual({ connectTimeoutMs: 3000, timeoutMs: 10_000 });
    expect(loadConfig({ OUTBOUND_TIMEOUT_MS: '2000', OUTBOUND_CONNECT_TIMEOUT_MS: '500' }).outbound).toEqual({ connectTimeoutMs: 500, timeoutMs: 2000 });
    expect(problems({ OUTBOUND_TIMEOUT_MS: '1000', OUTBOUND_CONNECT_TIMEOUT_MS: '2000' }).join('\n')).toMatch(/^OUTBOUND_CONNECT_TIMEOUT_MS: must not be above/m);
  });

  it('turns a channel on only when all of its credentials are set, and refuses a half-configured one', () => {
    const x = { X_API_KEY: 'k', X_API_SECRET: 's', X_ACCESS_TOKEN: 't', X_ACCESS_SECRET: 'a', X_BRAND_USER_ID: '42' };
    expect((loadConfig(x).channels.twitter as { brandUserId: string } | undefined)?.brandUserId).toBe('42');
    const half = problems({ X_API_KEY: 'k', X_API_SECRET: 's' });
    expect(half).toHaveLength(1);
    expect(half[0]).toMatch(/X_ACCESS_TOKEN, X_ACCESS_SECRET, X_BRAND_USER_ID: required to turn on twitter/);
    expect(problems({ MESSENGER_APP_SECRET: 'x' })[0]).toMatch(/MESSENGER_PAGE_TOKEN, MESSENGER_VERIFY_TOKEN/);
  });

  it('allows plain http platform origins only on loopback', () => {
    expect(problems({ X_API_ORIGIN: 'http://example.com' })[0]).toMatch(/X_API_ORIGIN: plain http is allowed only to a loopback/);
    expect(problems({ X_API_ORIGIN: 'http://127.0.0.1:9999' })).toEqual([]);
  });

  it('keeps the Bot Framework route off unless credentials or the local-only switch are set', () => {
    const botframework = (env: Record<string, string>) => loadConfig(env).channels.botframework as { localOnly: boolean } | undefined;
    expect(botframework({})).toBeUndefined();
    expect(botframework({ BOTFRAMEWORK_LOCAL_ONLY: 'true' })?.localOnly).toBe(true);
    expect(botframework({ MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw', MicrosoftAppType: 'MultiTenant' })?.localOnly).toBe(false);
    expect(problems({ MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw', MicrosoftAppType: 'SingleTenant' })[0]).toMatch(/MicrosoftAppTenantId/);
  });

  it('reads each channel\'s variables from its definition: WEBCHAT=false turns the web chat off, a wrong value is named', () => {
    expect(loadConfig({ WEBCHAT: 'false' }).channels).toEqual({});
    expect(problems({ WEBCHAT: 'maybe' })[0]).toMatch(/^WEBCHAT: /);
    expect(problems({ MESSENGER_GRAPH_VERSION: '23' })[0]).toMatch(/^MESSENGER_GRAPH_VERSION: like v23.0/);
    expect(problems({ PORT: 'x', X_API_KEY: 'k' })).toHaveLength(2); // core and channel problems, at once
  });

  it('parses weekly business hours, with day ranges and closed days', () => {
    const s = parseSchedule('mon-fri=09:00-18:00,sat=09:00-13:00');
    expect(s.mon).toEqual([[540, 1080]]);
    expect(s.sat).toEqual([[540, 780]]);
    expect(s.sun).toEqual([]);
    expect(problems({ BUSINESS_HOURS: 'mon-fri=18:00-09:00' })[0]).toMatch(/^BUSINESS_HOURS: /);
  });
});
