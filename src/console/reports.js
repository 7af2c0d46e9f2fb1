// @ts-check
// The console's reports page (admins): the figures of `sportello report` for a period and channel,
// drawn with Chart.js (served by Sportello at /console/chart.js, from npm: no CDN). Reads only
// GET /api/operator/reports; labels in Italian and English like the rest of the console.
import { $, h as el } from './dom.js';
import { lang, number, shortDay, t } from './i18n.js';

const TEXT = {
  it: {
    button: 'Report',
    title: 'Report',
    from: 'Dal',
    to: 'Al (escluso)',
    channel: 'Canale',
    all: 'Tutti',
    csv: 'Scarica CSV',
    inbound: 'Messaggi dei clienti',
    answeredByBot: 'Risposti dal bot',
    escalated: 'Passati agli operatori',
    responseRate: 'Tasso di risposta',
    frHuman: 'Prima risposta operatori (p50, orario lavorativo)',
    deflection: 'Deflessione',
    slaBreaches: 'SLA mancati',
    csat: 'Soddisfazione',
    perDay: 'Messaggi al giorno',
    responseOverTime: 'Prima risposta degli operatori (minuti lavorativi, p50) e SLA',
    byChannel: 'Messaggi per canale',
    reasons: 'Motivi di passaggio agli operatori',
    topFaq: 'Voci FAQ più usate',
    satisfaction: 'Soddisfazione (1–5)',
    sla: 'SLA priorità {p}',
    answers: 'risposte',
    failed: 'Impossibile caricare il report: {error}',
  },
  en: {
    button: 'Reports',
    title: 'Reports',
    from: 'From',
    to: 'To (excluded)',
    channel: 'Channel',
    all: 'All',
    csv: 'Download CSV',
    inbound: 'Customer messages',
    answeredByBot: 'Answered by the bot',
    escalated: 'Escalated to people',
    responseRate: 'Response rate',
    frHuman: 'People’s first response (p50, business time)',
    deflection: 'Deflection',
    slaBreaches: 'SLA breaches',
    csat: 'Satisfaction',
    perDay: 'Messages per day',
    responseOverTime: 'People’s first response (business minutes, p50) against the SLA',
    byChannel: 'Messages by channel',
    reasons: 'Why conversations went to people',
    topFaq: 'Top FAQ entries',
    satisfaction: 'Satisfaction (1–5)',
    sla: 'SLA priority {p}',
    answers: 'answers',
    failed: 'Could not load the report: {error}',
  },
};
/** @type {Record<string, string>} */
const words = TEXT[lang] ?? TEXT.en;
/**
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 */
const say = (key, vars = {}) => (words[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));

const COLORS = ['#4e79a7', '#59a14f', '#e15759', '#f28e2b', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7'];
/** @type {Map<string, { destroy(): void }>} */
const charts = new Map();

/**
 * A date as YYYY-MM-DD in the browser's calendar.
 * @param {Date} date
 */
function isoDay(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

/** @param {number | null} r */
const percent = (r) => (r === null ? '–' : number(r, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }));
/** @param {number | null} s */
const minutes = (s) => (s === null ? '–' : `${Math.round(s / 60)} min`);

/** @param {string} [format] */
function query(format) {
  const params = new URLSearchParams({ from: $('reports-from').value, to: $('reports-to').value });
  if ($('reports-channel').value) params.set('channel', $('reports-channel').value);
  if (format) params.set('format', format);
  return params.toString();
}

/**
 * Draws (or redraws) one chart on its canvas.
 * @param {'reports-daily' | 'reports-response' | 'reports-channels' | 'reports-reasons' | 'reports-faq' | 'reports-csat'} id
 * @param {{ type: string, data: unknown, options?: Record<string, unknown> }} config Chart.js's configuration
 */
function draw(id, config) {
  charts.get(id)?.destroy();
  /** @type {new (canvas: HTMLCanvasElement, config: unknown) => { destroy(): void }} */
  const Chart = /** @type {any} */ (globalThis).Chart;
  const chart = new Chart($(id), { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } });
  charts.set(id, chart);
}

/**
 * The report's figures as tiles and charts (the answer of GET /api/operator/reports, docs/formats.md).
 * @param {{ report: any, channels: string[], sla_minutes: number[] }} answer
 */
function render({ report, channels, sla_minutes: slaMinutes }) {
  const select = $('reports-channel');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, say('all')), ...channels.map((c) => el('option', { value: c }, c)));
  select.value = channels.includes(chosen) ? chosen : '';
  $('reports-csv').href = `/api/operator/reports?${query('csv')}`;

  /** @param {string} label @param {string} value */
  const tile = (label, value) => el('div', { class: 'reports-tile' }, el('strong', {}, value), el('span', {}, label));
  $('reports-tiles').replaceChildren(
    tile(say('inbound'), String(report.inbound)),
    tile(say('answeredByBot'), String(report.answered_by_bot)),
    tile(say('escalated'), String(report.escalated)),
    tile(say('responseRate'), percent(report.response_rate)),
    tile(say('frHuman'), minutes(report.first_response_business_seconds.human.p50)),
    tile(say('deflection'), percent(report.deflection_rate)),
    tile(say('slaBreaches'), String(report.sla_breaches)),
    tile(say('csat'), report.csat.average === null ? '–' : `${number(report.csat.average)} / 5 · ${report.csat.responses} ${say('answers')}`),
  );

  /** @type {string[]} */
  const days = Object.keys(report.by_day);
  const labels = days.map(shortDay);
  draw('reports-daily', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: say('inbound'), data: days.map((d) => report.by_day[d].inbound), backgroundColor: COLORS[0] },
        { label: say('answeredByBot'), data: days.map((d) => report.by_day[d].answered_by_bot), backgroundColor: COLORS[1] },
        { label: say('escalated'), data: days.map((d) => report.by_day[d].escalated), backgroundColor: COLORS[2] },
      ],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  draw('reports-response', {
    type: 'line',
    data: {
      labels,
      datasets: [
        { label: say('frHuman'), data: days.map((d) => { const s = report.by_day[d].first_response_business_seconds.human.p50; return s === null ? null : s / 60; }), borderColor: COLORS[3], backgroundColor: COLORS[3], spanGaps: true },
        ...slaMinutes.map((m, i) => ({ label: say('sla', { p: i + 1 }), data: days.map(() => m), borderColor: COLORS[4 + (i % 4)], borderDash: [6, 4], pointRadius: 0 })),
      ],
    },
    options: { scales: { y: { beginAtZero: true } } },
  });
  /**
   * @param {'reports-channels' | 'reports-reasons' | 'reports-faq'} id
   * @param {Array<[string, number]>} entries
   * @param {string} color
   */
  const horizontal = (id, entries, color) =>
    draw(id, {
      type: 'bar',
      data: { labels: entries.map(([k]) => k), datasets: [{ data: entries.map(([, v]) => v), backgroundColor: color }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  horizontal('reports-channels', Object.entries(report.by_channel).map(([k, f]) => [k, f.inbound]), COLORS[0]);
  // Reasons in the console's words ("chiede una persona"), as the queue says them; a reason it does not know as sent.
  /** @param {string} reason */
  const reasonLabel = (reason) => { const said = t(`reason.${reason}`); return said === `reason.${reason}` ? reason : said; };
  horizontal('reports-reasons', Object.entries(report.escalation_reasons).sort((a, b) => b[1] - a[1]).map(([k, v]) => /** @type {[string, number]} */ ([reasonLabel(k), v])), COLORS[2]);
  horizontal('reports-faq', Object.entries(report.by_faq).map(([k, f]) => /** @type {[string, number]} */ ([k, f.inbound])).sort((a, b) => b[1] - a[1]).slice(0, 10), COLORS[1]);
  draw('reports-csat', {
    type: 'bar',
    data: { labels: ['1', '2', '3', '4', '5'], datasets: [{ data: ['1', '2', '3', '4', '5'].map((k) => report.csat.distribution[k]), backgroundColor: COLORS[1] }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

async function load() {
  const status = $('reports-status');
  status.textContent = '';
  const res = await fetch(`/api/operator/reports?${query()}`, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    status.textContent = say('failed', { error: data.error ?? `HTTP ${res.status}` });
    return;
  }
  render(data);
  $('reports').dataset.loaded = `${$('reports-from').value}/${$('reports-to').value}/${$('reports-channel').value}`;
}

function setup() {
  $('reports-toggle').textContent = say('button');
  $('reports-title').textContent = say('title');
  $('reports-from-label').textContent = say('from');
  $('reports-to-label').textContent = say('to');
  $('reports-channel-label').textContent = say('channel');
  $('reports-csv').textContent = say('csv');
  for (const [id, key] of [['reports-daily-title', 'perDay'], ['reports-response-title', 'responseOverTime'], ['reports-channels-title', 'byChannel'], ['reports-reasons-title', 'reasons'], ['reports-faq-title', 'topFaq'], ['reports-csat-title', 'satisfaction']]) {
    $(id).textContent = say(key);
  }
  const today = new Date();
  $('reports-to').value = isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1));
  $('reports-from').value = isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6));
  $('reports-filters').addEventListener('submit', (event) => event.preventDefault());
  for (const id of ['reports-from', 'reports-to', 'reports-channel']) $(id).addEventListener('change', () => void load());
  $('reports-toggle').addEventListener('click', () => {
    const panel = $('reports');
    panel.hidden = !panel.hidden;
    $('reports-toggle').setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) void load();
  });
}

setup();
