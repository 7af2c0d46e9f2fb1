/**
 * The alert e-mails' variables (src/config/alert-mail.ts): an SMTP URL or host and login, the
 * sender, the recipients, the language; every mistake named, a password never repeated.
 */
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { configProblems } from '../helpers/config.js';

const problems = configProblems;

describe('alert e-mail settings', () => {
  it('are off without an SMTP server', () => {
    expect(loadConfig({}).alertMail).toBeUndefined();
  });

  it('read a URL, or a host with port, TLS and login; the language defaults to DEFAULT_LOCALE', () => {
    expect(loadConfig({ SMTP_URL: 'smtps://alerts:pw@mail.example.com:465', SMTP_FROM: 'Sportello <alerts@brand.example>', ALERT_EMAILS: 'ceo@brand.example, pr@brand.example' }).alertMail).toEqual({
      smtp: { url: 'smtps://alerts:pw@mail.example.com:465' },
      from: 'Sportello <alerts@brand.example>',
      to: ['ceo@brand.example', 'pr@brand.example'],
      language: 'it',
      timeoutMs: 20_000,
    });
    expect(
      loadConfig({ SMTP_HOST: 'mail.example.com', SMTP_USER: 'alerts', SMTP_PASSWORD: 'pw', SMTP_FROM: 'alerts@brand.example', ALERT_EMAILS: 'ceo@brand.example', DEFAULT_LOCALE: 'en', SMTP_TIMEOUT_MS: '5000' }).alertMail,
    ).toEqual({
      smtp: { host: 'mail.example.com', port: 587, secure: false, auth: { user: 'alerts', pass: 'pw' } },
      from: 'alerts@brand.example',
      to: ['ceo@brand.example'],
      language: 'en',
      timeoutMs: 5000,
    });
    expect(loadConfig({ SMTP_HOST: 'mail.example.com', SMTP_PORT: '465', SMTP_FROM: 'a@b.example', ALERT_EMAIL_LANGUAGE: 'en' }).alertMail).toMatchObject({ smtp: { port: 465, secure: true }, language: 'en', to: [] });
  });

  it('name every mistake, and never show a password', () => {
    expect(problems({ SMTP_HOST: 'mail.example.com', SMTP_USER: 'alerts' })).toEqual([
      'SMTP_PASSWORD: the login needs both SMTP_USER and SMTP_PASSWORD',
      expect.stringMatching(/^SMTP_FROM: the sender of alert e-mails is missing/),
    ]);
    expect(problems({ ALERT_EMAILS: 'ceo@brand.example' })).toEqual([expect.stringMatching(/^ALERT_EMAILS: set, but no SMTP server/)]);
    expect(problems({ SMTP_URL: 'smtp://mail.example.com', SMTP_FROM: 'a@b.example', ALERT_EMAILS: 'ceo@brand, pr@brand.example' })).toEqual([expect.stringMatching(/^ALERT_EMAILS: /)]);
    const url = problems({ SMTP_URL: 'http://user:hunter2@mail.example.com', SMTP_FROM: 'a@b.example' });
    expect(url).toEqual([expect.stringMatching(/^SMTP_URL: an smtp:\/\/ or smtps:\/\/ URL.*\(got a value that is not shown\)$/)]);
    expect(url.join('')).not.toContain('hunter2');
    expect(problems({ SMTP_URL: 'smtp://mail.example.com', SMTP_HOST: 'mail.example.com', SMTP_FROM: 'a@b.example' })).toEqual(['SMTP_HOST: give SMTP_URL or SMTP_HOST, not both']);
    expect(problems({ SMTP_URL: 'smtp://mail.example.com', SMTP_FROM: 'not an address' })).toEqual([expect.stringMatching(/^SMTP_FROM: an address, or a name and <address>/)]);
  });
});

describe('alerts.email in the listening file', () => {
  it('without an SMTP server stops the start with the file named', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createSportello } = await import('../../src/app.js');
    const dir = mkdtempSync(join(tmpdir(), 'sportello-alert-mail-'));
    try {
      const file = join(dir, 'listening.yaml');
      writeFileSync(file, 'alerts:\n  email:\n    to: [ceo@brand.example]\n');
      const config = loadConfig({ LISTENING_FILE: file, SPORTELLO_DATA: join(dir, 'data.json'), LOG_LEVEL: 'silent' });
      const failure = await createSportello({ config }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as ConfigError).problems).toEqual([`${file}: alerts.email: no SMTP server to send with (set SMTP_URL, or SMTP_HOST and SMTP_FROM)`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
