import { describe, expect, it } from '@jest/globals';
import { TWITTER_CAPABILITIES } from '../../src/channels/twitter/capabilities.js';
import { parseSchedule } from '../../src/config/config.js';
import { describeSchedule, fillVariables, fitReply } from '../../src/handoff/saved-replies.js';

describe('saved replies: variables and channel fitting', () => {
  it('describes the weekly hours in each language, grouping days with the same hours', () => {
    const schedule = parseSchedule('mon-fri=09:00-13:00+14:00-18:00,sat=09:30-12:00');
    expect(describeSchedule(schedule, 'it')).toBe('lun–ven 9:00–13:00 e 14:00–18:00, sab 9:30–12:00');
    expect(describeSchedule(schedule, 'en')).toBe('Mon–Fri 9:00–13:00 and 14:00–18:00, Sat 9:30–12:00');
    expect(describeSchedule(parseSchedule('mon=09:00-12:00,wed=09:00-12:00'), 'en')).toBe('Mon 9:00–12:00, Wed 9:00–12:00');
    expect(describeSchedule(parseSchedule(''), 'it')).toBe('su appuntamento');
  });

  it('fills the variables in, keeps unknown ones, and closes the gap an empty name leaves', () => {
    const values = { customer_name: '', operator_name: 'Marta', business_hours: 'lun–ven 9:00–18:00', reopens: 'domani alle 9:00' };
    expect(fillVariables('Ciao {customer_name}, sono {operator_name}. Riapriamo {reopens} ({business_hours}). {nope}', values)).toBe(
      'Ciao, sono Marta. Riapriamo domani alle 9:00 (lun–ven 9:00–18:00). {nope}',
    );
  });

  it('measures a public reply on X with its signature and X weights, and shows the thread it would take', () => {
    const short = fitReply('Ciao Anna, controllo subito.', TWITTER_CAPABILITIES, 'public', 'MR');
    expect(short).toMatchObject({ fits: true, length: 'Ciao Anna, controllo subito. ^MR'.length, maxLength: 280 });
    // CJK characters weigh 2 on X: 150 of them are 300, over 280
    const wide = fitReply('漢'.repeat(150), TWITTER_CAPABILITIES, 'public', 'MR');
    expect(wide.fits).toBe(false);
    expect(wide.length).toBe(300 + 4);
    const long = fitReply('Una frase lunga abbastanza per riempire un post. '.repeat(8).trim(), TWITTER_CAPABILITIES, 'public', 'MR');
    expect(long.fits).toBe(false);
    expect(long.thread!.length).toBeGreaterThan(1);
    expect(long.thread!.every((post) => TWITTER_CAPABILITIES.measure(`${post} ^MR`) <= 280)).toBe(true);
    // in private (DMs) the same text fits: no signature, a longer limit
    expect(fitReply(long.text, TWITTER_CAPABILITIES, 'private', 'MR').fits).toBe(true);
  });
});
