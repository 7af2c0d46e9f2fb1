/**
 * The spike detector and the classification of heard items on synthetic streams (no classifier
 * training: the FAQ classifier's ranking is left empty, the rest of understanding is the real one).
 */
import { jest } from '@jest/globals';
import { analyseSentiment, detectEntities, detectLanguage } from '../../src/classifier/index.js';
import type { Understanding } from '../../src/core/ports.js';
import { classifyHeard, contentTerms, createRepeatMemory, createSpikeDetector, poissonTail, type DetectorSettings, type SpikeAlert } from '../../src/listening/index.js';
import { calmDays, merge, seeded, shippingSpike, spike, wave, type StreamLine } from '../helpers/listening-streams.js';

function understand(text: string): Understanding {
  const language = detectLanguage(text);
  const { sentiment, anger } = analyseSentiment(text, language);
  return { language, classification: { ranked: [] }, entities: detectEntities(text), sentiment, anger };
}

/** Plays lines through classification and the detector; returns the alerts and each line's result. */
function play(lines: StreamLine[], settings: Partial<DetectorSettings> = {}) {
  const detector = createSpikeDetector({ brandNames: ['Bottega Rossi'], ...settings });
  const repeats = createRepeatMemory();
  const alerts: SpikeAlert[] = [];
  const results = new Map<string, { class: string; topic?: string; spike?: string }>();
  for (const line of lines) {
    const u = understand(line.text);
    const judged = classifyHeard(line.text, u, { answerThreshold: 0.5 }, repeats.seen(line.author.id, line.text));
    const seen = detector.observe({
      id: line.id,
      at: Date.parse(line.at),
      source: line.channel,
      language: u.language,
      text: line.text,
      author: line.author,
      negative: judged.negative,
      spam: judged.class === 'spam',
    });
    alerts.push(...seen.alerts);
    results.set(line.id, { class: judged.class, topic: seen.topic, spike: seen.spike });
  }
  return { alerts, results };
}

const MONDAY = '2026-03-02T00:00:00+01:00';

jest.setTimeout(180_000);

describe('the spike detector', () => {
  it('computes Poisson tails', () => {
    expect(poissonTail(0, 3)).toBe(1);
    expect(poissonTail(1, 2)).toBeCloseTo(1 - Math.exp(-2), 10);
    expect(poissonTail(3, 1)).toBeCloseTo(1 - Math.exp(-1) * (1 + 1 + 0.5), 10);
    expect(poissonTail(40, 2)).toBeLessThan(1e-25);
    expect(poissonTail(40, 2)).toBeGreaterThan(0);
  });

  it('raises nothing in seven calm days with a daily pattern, at two volumes and seeds', () => {
    for (const [perDay, seed] of [[240, 1], [900, 2]] as const) {
      const { alerts } = play(calmDays(MONDAY, 7, { perDay, seed }));
      expect(alerts).toEqual([]);
    }
  });

  it('raises one alert within 15 minutes of a negative spike on one topic, naming it, and none before', () => {
    const start = '2026-03-09T10:00:00+01:00';
    const { alerts, results } = play(merge(calmDays(MONDAY, 7), spike(start)));
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert!.update).toBe(false);
    expect(Date.parse(alert!.at)).toBeGreaterThanOrEqual(Date.parse(start));
    expect(Date.parse(alert!.at) - Date.parse(start)).toBeLessThanOrEqual(15 * 60_000);
    expect(alert!.topic).toBe('app bloccata');
    expect(alert!.negativeShare).toBeGreaterThan(0.6);
    expect(alert!.volume).toBeGreaterThan(alert!.baseline * 3);
    expect(alert!.samples.length).toBeGreaterThan(0);
    expect(alert!.topAuthors[0]!.followers).toBeGreaterThanOrEqual(alert!.topAuthors.at(-1)!.followers);
    // The spike's items carry its topic; its care requests are still care.
    const care = [...results.entries()].filter(([id]) => id.startsWith('spike-care-'));
    expect(care.length).toBeGreaterThan(3);
    for (const [, r] of care) expect(r.class).toBe('care');
    const late = care.filter(([id]) => Number(id.split('-').at(-1)) > 2);
    for (const [, r] of late) expect(r).toMatchObject({ topic: 'app bloccata', spike: 'app bloccata' });
  });

  it('alerts again only when the spike grows (update), not while its window fills at a steady pace', () => {
    const steady = play(merge(calmDays(MONDAY, 7), spike('2026-03-09T10:00:00+01:00', { minutes: 90 })));
    expect(steady.alerts.map((a) => a.update)).toEqual([false]);
    const growing = play(
      merge(calmDays(MONDAY, 7), spike('2026-03-09T10:00:00+01:00', { minutes: 40 }), spike('2026-03-09T10:40:00+01:00', { minutes: 30, perMinute: 7, seed: 5 })),
    );
    expect(growing.alerts.map((a) => a.update)).toEqual([false, true]);
    expect(growing.alerts[1]!.volume).toBeGreaterThan(growing.alerts[0]!.volume * 2);
    expect(new Set(growing.alerts.map((a) => a.spikeId)).size).toBe(1);
    // A detector started again (a restart) names its next spike anew: the alert mail's thread and the
    // webhooks' spikeId are not an earlier spike's.
    const later = play(merge(calmDays('2026-03-03T00:00:00+01:00', 7), spike('2026-03-10T10:00:00+01:00', { minutes: 40 })));
    expect(later.alerts[0]!.spikeId).not.toBe(growing.alerts[0]!.spikeId);
  });

  it('in its first day of history (cold start) alerts only on a spike over the cautious bar: a crisis, not a moderate rise', () => {
    const moderate = { perMinute: 0.25 };
    expect(play(merge(calmDays(MONDAY, 1), spike('2026-03-02T15:00:00+01:00', moderate))).alerts).toEqual([]);
    // The same moderate spike a day later alerts.
    expect(play(merge(calmDays(MONDAY, 2), spike('2026-03-03T15:00:00+01:00', moderate))).alerts.filter((a) => !a.update)).toHaveLength(1);
    // A crisis on day one (two angry posts a minute) alerts at once, as it would a day later.
    const dayOne = play(merge(calmDays(MONDAY, 1), spike('2026-03-02T15:00:00+01:00'))).alerts.filter((a) => !a.update);
    expect(dayOne).toHaveLength(1);
    expect(Date.parse(dayOne[0]!.at) - Date.parse('2026-03-02T15:00:00+01:00')).toBeLessThanOrEqual(15 * 60_000);
  });

  it('raises nothing for a rise that comes every Monday morning, and does for the same rise on a Wednesday', () => {
    // Three weeks; every Monday 9-11 a burst of negative posts about the same thing (a weekly maintenance).
    const mondays = [0, 7, 14].map((d) =>
      spike(new Date(Date.parse('2026-03-02T09:00:00+01:00') + d * 86_400_000).toISOString(), { minutes: 120, perMinute: 0.5, seed: 20 + d }),
    );
    const weekly = play(merge(calmDays(MONDAY, 21, { seed: 4 }), ...mondays));
    const afterFirstWeek = weekly.alerts.filter((a) => Date.parse(a.at) >= Date.parse('2026-03-09T00:00:00+01:00'));
    expect(afterFirstWeek).toEqual([]);
    // A surprise rise of the same size on a Wednesday is a spike.
    const wednesday = play(merge(calmDays(MONDAY, 10, { seed: 4 }), spike('2026-03-11T09:00:00+01:00', { minutes: 120, perMinute: 0.5, seed: 9 })));
    expect(wednesday.alerts.filter((a) => !a.update)).toHaveLength(1);
  });

  it('raises nothing when the whole stream rises (every topic four times busier one morning, without weekly history)', async () => {
    // Starts on a Tuesday: the Monday of day 6 has no hour-of-week history yet; 8-12 it is four times as busy.
    // Any spike would alert here (no negative share needed): only the whole stream's rise explains it away.
    const busy = calmDays('2026-03-03T00:00:00+01:00', 7, { perDay: 400, seed: 21, boost: (d, h) => (d === 6 && h >= 8 && h < 12 ? 5 : 1) });
    expect(play(busy, { minNegativeShare: 0 }).alerts).toEqual([]);
  });

  it('alerts within 15 minutes on a negative spike of a topic the calm days already talk about', () => {
    const start = '2026-03-09T11:00:00+01:00';
    const { alerts } = play(merge(calmDays(MONDAY, 7, { perDay: 400, seed: 22 }), shippingSpike(start, 40, 1)));
    expect(alerts.filter((a) => !a.update)).toHaveLength(1);
    expect(alerts[0]!.topic).toMatch(/spedizion/);
    expect(Date.parse(alerts[0]!.at) - Date.parse(start)).toBeLessThanOrEqual(15 * 60_000);
    // "spedizione" is counted with "consegna", which the calm days say too (TOPIC_WORDS): the spike's
    // first firing word is its companion "ritardo", new that day; the update is on the known topic.
    expect(alerts.some((a) => a.baseline > 0)).toBe(true);
  });

  it('alerts within an hour or so on a slow rise no 20-minute window shows (a post every five minutes, Italian and English), once', () => {
    const start = '2026-03-11T09:00:00+01:00';
    const texts = [
      'La app mi disconnette di continuo, che schifo',
      'Logged out of the app again, so annoying',
      'Ennesima disconnessione dalla app, pessimi',
      'The app keeps logging me out, terrible',
      'Sloggato di nuovo dalla app, ridicoli',
      'the app logs me out every time, awful',
    ];
    const slow = wave(start, texts, { minutes: 180, perMinute: 0.2, prefix: 'slow', steady: true });
    const lines = merge(calmDays(MONDAY, 10, { seed: 6 }), slow);
    const { alerts } = play(lines);
    expect(alerts.filter((a) => !a.update)).toHaveLength(1);
    expect(alerts[0]!.windowMinutes).toBe(180);
    expect(alerts[0]!.topic).toMatch(/app/);
    // By the tenth person (the medium bar is nine), and within an hour and a quarter.
    expect(Date.parse(alerts[0]!.at)).toBeLessThanOrEqual(Date.parse(slow[9]!.at));
    expect(Date.parse(alerts[0]!.at) - Date.parse(start)).toBeLessThanOrEqual(75 * 60_000);
    // The 20-minute window alone never sees it.
    expect(play(lines, { longWindowMinutes: 0 }).alerts).toEqual([]);
    // Nor is it a spike when it comes every morning (a daily rise is in the hour-of-day baseline).
    const daily = merge(calmDays(MONDAY, 10, { seed: 6 }), ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => wave(new Date(Date.parse('2026-03-02T09:00:00+01:00') + d * 86_400_000).toISOString(), texts, { minutes: 180, perMinute: 0.2, seed: 40 + d, prefix: `daily${d}`, steady: true })));
    expect(play(daily).alerts.filter((a) => Date.parse(a.at) >= Date.parse('2026-03-05T00:00:00+01:00'))).toEqual([]);
  });

  it('alerts once for one incident told in Italian and English with no word in common, and twice for two incidents at once', () => {
    const italian = ['Errore al pagamento, vergogna', 'Pagamento fallito di nuovo, che schifo', 'Non riesco a pagare, errore continuo. Pessimi'];
    const english = ['Checkout is broken again, terrible', 'checkout keeps failing, awful', 'checkout down all morning, what a joke'];
    const calm = () => calmDays(MONDAY, 7, { seed: 7 });
    const it = wave('2026-03-09T12:00:00+01:00', italian, { minutes: 30, perMinute: 1, prefix: 'it' });
    const en = wave('2026-03-09T12:05:00+01:00', english, { minutes: 30, perMinute: 1, seed: 3, prefix: 'en' });
    // Each alone is a spike …
    expect(play(merge(calm(), it)).alerts.filter((a) => !a.update)).toHaveLength(1);
    expect(play(merge(calm(), en)).alerts.filter((a) => !a.update)).toHaveLength(1);
    // … together, one incident: one alert (its updates share its id).
    const both = play(merge(calm(), it, en)).alerts;
    expect(both.filter((a) => !a.update)).toHaveLength(1);
    expect(new Set(both.map((a) => a.spikeId)).size).toBe(1);
    // The app stuck and the shipping late at the same time are two incidents: two alerts.
    const two = play(merge(calm(), spike('2026-03-09T10:00:00+01:00', { minutes: 40 }), shippingSpike('2026-03-09T10:05:00+01:00', 40, 1))).alerts.filter((a) => !a.update);
    expect(two).toHaveLength(2);
    expect(two.map((a) => a.topic).join(' | ')).toMatch(/app.*\|.*spedizion|spedizion.*\|.*app/);
  });

  it('does not alert on a spike of praise or of spam (a campaign, a bot wave) by default', () => {
    const rand = seeded(3);
    const praise: StreamLine[] = [];
    const spam: StreamLine[] = [];
    for (let i = 0; i < 120; i++) {
      const at = new Date(Date.parse('2026-03-09T10:00:00+01:00') + Math.floor(rand() * 3_600_000)).toISOString();
      praise.push({ at, channel: 'twitter', kind: 'post', id: `p${i}`, author: { id: `a${i}` }, text: 'Fantastica la nuova sciarpa rossa, bellissima, grazie!' });
      spam.push({ at, channel: 'twitter', kind: 'post', id: `s${i}`, author: { id: `b${i}` }, text: 'Segui e vinci una sciarpa gratis https://spam.example #giveaway #vinci' });
    }
    expect(play(merge(calmDays(MONDAY, 7), praise)).alerts).toEqual([]);
    expect(play(merge(calmDays(MONDAY, 7), spam)).alerts).toEqual([]);
    // With min_negative_share 0 the campaign alerts.
    expect(play(merge(calmDays(MONDAY, 7), praise), { minNegativeShare: 0 }).alerts).toHaveLength(1);
  });

  it('lets sensitivity decide on a modest rise', () => {
    const modest = merge(calmDays(MONDAY, 7), spike('2026-03-09T15:00:00+01:00', { minutes: 30, perMinute: 0.3, seed: 8 }));
    expect(play(modest, { pValue: 1e-8, minRatio: 4, minVolume: 12 }).alerts).toEqual([]);
    expect(play(modest, { pValue: 1e-4, minRatio: 2, minVolume: 5 }).alerts.length).toBeGreaterThan(0);
  });
});

describe('classification of heard items', () => {
  const cls = (text: string, repeats = 0) => classifyHeard(text, understand(text), { answerThreshold: 0.5 }, repeats).class;

  it('tells care, praise, noise and spam apart in Italian and English', () => {
    expect(cls('Il mio ordine non è ancora arrivato, potete aiutarmi?')).toBe('care');
    expect(cls('La app è bloccata e non riesco a pagare')).toBe('care');
    expect(cls('My order never arrived, can you help me?')).toBe('care');
    expect(cls('How do I return a sweater?')).toBe('care');
    expect(cls('Grazie Bottega Rossi, pacco arrivato in anticipo!')).toBe('praise');
    expect(cls('Love the new winter collection, great colours')).toBe('praise');
    expect(cls('App bloccata, che vergogna. Pessimi')).toBe('noise');
    expect(cls('Anche a voi la app è bloccata? Assurdo')).toBe('noise');
    expect(cls('Ho comprato una borsa in pelle, qualità top')).toBe('praise');
    expect(cls('Segui e vinci un iPhone gratis https://bit.ly/x #giveaway')).toBe('spam');
    expect(cls('Earn money with crypto, click here https://x.example')).toBe('spam');
    expect(cls('Bella la vetrina di oggi', 2)).toBe('spam');
    // A problem with an order reported plainly, or asked about, is care; a rant or a question to other people is not.
    expect(cls('Il mio pacco non è arrivato')).toBe('care');
    expect(cls('Rimborso non ancora ricevuto dopo 3 settimane')).toBe('care');
    expect(cls("My package hasn't arrived yet")).toBe('care');
    expect(cls('I need help with my refund')).toBe('care');
    expect(cls('Perché la app non si apre?')).toBe('care');
    expect(cls('Qualcuno sa perché la app non va?')).toBe('noise');
    expect(cls('Ma è possibile che la app sia bloccata di nuovo? Pessimi')).toBe('noise');
    expect(cls('Spedizione in ritardo di nuovo, vergogna')).toBe('noise');
    expect(cls('Terrible service, never again')).toBe('noise');
  });

  it("takes a confident private FAQ entry (careLabels: the customer's own order) as a request, unless the post is praise", () => {
    const careLabels = new Set(['faq:stato-ordine', 'faq:order-status']);
    const judge = (text: string, label: string, labels?: ReadonlySet<string>) =>
      classifyHeard(text, { ...understand(text), classification: { ranked: [{ label, confidence: 0.95 }] } }, { answerThreshold: 0.5, ...(labels ? { careLabels: labels } : {}) }).class;
    expect(judge('my order still says processing', 'faq:order-status', careLabels)).toBe('care');
    expect(judge('il mio ordine risulta ancora in lavorazione', 'faq:stato-ordine', careLabels)).toBe('care');
    // Without the label among the care labels (or another entry), the same post is an opinion.
    expect(judge('my order still says processing', 'faq:order-status')).toBe('noise');
    expect(judge('my order still says processing', 'faq:opening-hours', careLabels)).toBe('noise');
    expect(judge('my order arrived today, love it!', 'faq:order-status', careLabels)).toBe('praise');
  });

  it('tells requests from the polemic around them, addressed to the brand or not, in both languages', () => {
    // Requests: a problem with what people use (the app, the site, a payment, an item), "help", waiting with nothing come.
    // Noise: rants, news, chatter and questions to other people ("avete visto…?"). Praise: thanks, a problem solved.
    const cases: Array<[string, string]> = [
      ['care', "@acme the app keeps crashing when I pay, help"],
      ['care', "@acme can't log in since this morning, password reset email never comes"],
      ['care', "acme app keeps crashing at checkout, anyone from acme can help?"],
      ['care', "@acme ordine 12345 mai arrivato, mi aiutate?"],
      ['care', "il pacco acme non è ancora arrivato dopo due settimane, a chi devo scrivere?"],
      ['care', "@acme mi avete addebitato due volte l'ordine"],
      ['care', "@acme still no refund after 3 weeks"],
      ['care', "@acme non riesco ad accedere all'app"],
      ['care', "@acme help! my order shows delivered but nothing arrived"],
      ['care', "@acme how long does a return take?"],
      ['care', "@acme avete il numero di telefono dell'assistenza?"],
      ['care', "ho ordinato da acme una settimana fa e l'ordine è ancora in lavorazione, normale?"],
      ['care', "@acme wrong item in my package, what do I do?"],
      ['noise', "acme ha di nuovo alzato i prezzi, che vergogna"],
      ['noise', "ma avete visto la pubblicità di acme? imbarazzante"],
      ['noise', "@acme vergogna! boicottiamo tutti acme"],
      ['noise', "acme is trending again lol"],
      ['noise', "never shopping at acme again after that ad, disgusting"],
      ['noise', "anche a voi l'app acme non va? #acmedown"],
      ['noise', "is acme down for anyone else?"],
      ['noise', "acme's CEO interview was so cringe"],
      ['noise', "@acme you should be ashamed of yourselves"],
      ['noise', "leggendo le notizie su acme... che disastro di azienda"],
      ['praise', "@acme thanks for the quick help, great service!"],
      ['praise', "pacco acme arrivato in un giorno, bravissimi"],
      ['praise', "@acme grazie per l'aiuto, gentilissimi"],
      ['praise', "love my new acme jacket, best purchase this year"],
      ['praise', "@acme servizio clienti super, problema risolto in 5 minuti"],
      ['spam', "WIN a free acme gift card!!! follow + RT + click here http://bit.ly/x"],
      ['spam', "guadagna 500 euro al giorno con acme crypto http://x.co/y #soldi #crypto #acme"],
      ['care', "@acme my card was charged but the order isn't showing in my account"],
      ['care', "@acme il sito mi dà errore quando provo a pagare con paypal"],
      ['care', "acme customer service never answers the phone, how am I supposed to cancel my order?"],
      ['care', "@acme I need to change the delivery address on my order"],
      ['care', "@acme buongiorno, vorrei sapere se fate spedizioni in Svizzera"],
      ['care', "@acme the discount code doesn't work at checkout"],
      ['care', "qualcuno di acme può rispondermi? il reso è fermo da 10 giorni"],
      ['care', "@acme è possibile cambiare la taglia dopo l'ordine?"],
      ['care', "@acme received a damaged item, want a replacement"],
      ['care', "@acme nessuno risponde alla mail, il mio rimborso dov'è finito?"],
      ['noise', "acme's new logo looks like a toddler drew it"],
      ['noise', "acme e le sue promesse... sempre le stesse storie"],
      ['noise', "@acme siete ridicoli"],
      ['noise', "Breaking: acme to close 30 stores next year"],
      ['noise', "why does everyone hate acme now? genuinely curious"],
      ['noise', "ok ma chi compra ancora da acme nel 2026"],
      ['noise', "acme vs rivale: chi ha i prezzi migliori? thread 🧵"],
      ['noise', "@acme lol ok"],
      ['noise', "the acme strike is all over the news today"],
      ['noise', "acme ha sponsorizzato la partita di ieri sera"],
      ['praise', "il servizio clienti di acme è il migliore, sempre gentili"],
      ['praise', "@acme grazie mille, rimborso arrivato!"],
      ['praise', "just got my acme order and it's perfect"],
      ['praise', "@acme thank you for sorting my return so quickly"],
      ['praise', "consiglio acme a tutti, spedizione veloce e prodotti ottimi"],
      ['spam', "🔥🔥 acme sale 90% off only today click here http://scam.example #acme #sale #deal #offer #shop #cheap"],
      ['spam', "earn money from home with acme affiliate program link in bio"],
      ['spam', "@acme @acme follow back pls giveaway http://x.example"],
      ['spam', "vinci un iphone gratis partecipa ora http://y.example #acme"],
    ];
    const wrong = cases.filter(([expected, text]) => cls(text) !== expected).map(([expected, text]) => `${expected} ← ${cls(text)}: ${text}`);
    expect(wrong).toEqual([]);
  });

  it('pulls sentiment down for problems the lexicon does not know', () => {
    const plain = understand('Il sito è down da un ora');
    expect(plain.sentiment).toBe(0);
    const judged = classifyHeard('Il sito è down da un ora', plain, { answerThreshold: 0.5 });
    expect(judged.sentiment).toBeLessThan(-0.2);
    expect(judged.negative).toBe(true);
  });

  it('makes topics of content words, without stop-words or the brand', () => {
    expect(contentTerms('La app della Bottega Rossi è bloccata!', 'it', new Set(['bottega', 'rossi'])).map((t) => t.surface)).toEqual(['app', 'bloccata']);
    expect(contentTerms('The app is down again #fail @brand https://x.example', 'en').map((t) => t.surface)).toEqual(['app', 'fail']);
    // What people ask for is not what the post is about: "voglio", "help", "need" name no topic.
    expect(contentTerms('voglio parlare con un operatore, aiutatemi', 'it').map((t) => t.surface)).toEqual(['parlare', 'operatore']);
    expect(contentTerms('I need help, want my refund please', 'en').map((t) => t.surface)).toEqual(['refund']);
  });
});
