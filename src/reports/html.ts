/**
 * @module reports/html
 * The report for stakeholders: one self-contained HTML page (inline CSS and SVG charts, no script,
 * nothing fetched), laid out to print on A4 (Chromium's "Save as PDF"). Italian or English.
 */
import type { Language } from '../core/types.js';
import type { Figures, Percentiles, Report } from './report.js';

const TEXT = {
  en: {
    title: 'Customer care report',
    period: 'Period',
    timezone: 'time zone',
    generated: 'generated',
    inbound: 'Customer messages',
    answeredByBot: 'Answered by the bot',
    escalated: 'Escalated to people',
    responseRate: 'Response rate',
    frBot: 'First response, bot (p50 / p90)',
    frHuman: 'First response, people (p50 / p90)',
    frHumanBusiness: 'First response, people, business time (p50 / p90)',
    resolution: 'Resolution time (p50 / p90)',
    deflection: 'Deflection (cases closed by the bot)',
    slaBreaches: 'SLA breaches',
    csat: 'Satisfaction',
    responses: 'answers',
    daily: 'Messages per day',
    dailyLegend: 'customer messages · answered by the bot · escalated',
    dailyResponse: 'First response of people per day (p50, business time)',
    byChannel: 'By channel',
    reasons: 'Why conversations went to people',
    faq: 'Top FAQ entries',
    operators: 'Operators',
    operator: 'Operator',
    replies: 'Replies',
    resolved: 'Resolved',
    channel: 'Channel',
    entry: 'FAQ entry',
    none: 'Nothing in this period.',
    distribution: 'Scores',
  },
  it: {
    title: 'Report del servizio clienti',
    period: 'Periodo',
    timezone: 'fuso orario',
    generated: 'generato',
    inbound: 'Messaggi dei clienti',
    answeredByBot: 'Risposti dal bot',
    escalated: 'Passati agli operatori',
    responseRate: 'Tasso di risposta',
    frBot: 'Prima risposta, bot (p50 / p90)',
    frHuman: 'Prima risposta, operatori (p50 / p90)',
    frHumanBusiness: 'Prima risposta, operatori, orario lavorativo (p50 / p90)',
    resolution: 'Tempo di risoluzione (p50 / p90)',
    deflection: 'Deflessione (casi chiusi dal bot)',
    slaBreaches: 'SLA mancati',
    csat: 'Soddisfazione',
    responses: 'risposte',
    daily: 'Messaggi al giorno',
    dailyLegend: 'messaggi dei clienti · risposti dal bot · passati agli operatori',
    dailyResponse: 'Prima risposta degli operatori al giorno (p50, orario lavorativo)',
    byChannel: 'Per canale',
    reasons: 'Perché le conversazioni sono passate agli operatori',
    faq: 'Voci FAQ più usate',
    operators: 'Operatori',
    operator: 'Operatore',
    replies: 'Risposte',
    resolved: 'Risolti',
    channel: 'Canale',
    entry: 'Voce FAQ',
    none: 'Niente in questo periodo.',
    distribution: 'Punteggi',
  },
} as const;

type Words = (typeof TEXT)[Language];

const COLORS = { inbound: '#4e79a7', bot: '#59a14f', escalated: '#e15759', human: '#f28e2b', bar: '#4e79a7' };

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A duration in seconds, for people: 45 s, 12 min, 3.5 h, 2.1 d. */
export function humanDuration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

const pair = (p: Percentiles) => `${humanDuration(p.p50)} / ${humanDuration(p.p90)}`;
const percent = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)}%`);

/** Grouped vertical bars (one group per label, one bar per series), as inline SVG. */
function columns(labels: string[], series: Array<{ values: number[]; color: string }>, format: (v: number) => string = String): string {
  const width = 700;
  const height = 200;
  const top = 14;
  const bottom = 34;
  const left = 8;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const slot = (width - left) / Math.max(1, labels.length);
  const bar = Math.max(2, Math.min(28, (slot * 0.8) / series.length));
  const scale = (v: number) => ((height - top - bottom) * v) / max;
  const parts: string[] = [];
  labels.forEach((label, i) => {
    const x0 = left + i * slot + (slot - bar * series.length) / 2;
    series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const h = scale(v);
      const x = x0 + j * bar;
      const y = height - bottom - h;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}"><title>${escape(label)}: ${escape(format(v))}</title></rect>`);
      if (v > 0 && labels.length <= 16) parts.push(`<text x="${(x + bar / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" font-size="9" text-anchor="middle">${escape(format(v))}</text>`);
    });
    const every = Math.ceil(labels.length / 16);
    if (i % every === 0) parts.push(`<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${height - bottom + 14}" font-size="10" text-anchor="middle">${escape(label)}</text>`);
  });
  parts.push(`<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#888"/>`);
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

/** Horizontal bars, largest first. */
function bars(items: Array<[string, number]>, words: Words, color = COLORS.bar): string {
  if (items.length === 0) return `<p class="none">${escape(words.none)}</p>`;
  const sorted = [...items].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 12);
  const max = Math.max(1, ...sorted.map(([, v]) => v));
  const row = 22;
  const width = 700;
  const labelWidth = 200;
  const parts = sorted.map(([label, v], i) => {
    const w = ((width - labelWidth - 50) * v) / max;
    const y = i * row;
    return (
      `<text x="${labelWidth - 6}" y="${y + 15}" font-size="11" text-anchor="end">${escape(label)}</text>` +
      `<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${row - 8}" fill="${color}"/>` +
      `<text x="${(labelWidth + w + 4).toFixed(1)}" y="${y + 15}" font-size="11">${v}</text>`
    );
  });
  return `<svg class="chart" viewBox="0 0 ${width} ${sorted.length * row}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

function tiles(f: Figures, w: Words): string {
  const tile = (label: string, value: string) => `<div class="tile"><div class="value">${escape(value)}</div><div class="label">${escape(label)}</div></div>`;
  return [
    tile(w.inbound, String(f.inbound)),
    tile(w.answeredByBot, String(f.answered_by_bot)),
    tile(w.escalated, String(f.escalated)),
    tile(w.responseRate, percent(f.response_rate)),
    tile(w.frBot, pair(f.first_response_seconds.bot)),
    tile(w.frHuman, pair(f.first_response_seconds.human)),
    tile(w.frHumanBusiness, pair(f.first_response_business_seconds.human)),
    tile(w.resolution, pair(f.resolution_seconds)),
    tile(w.deflection, percent(f.deflection_rate)),
    tile(w.slaBreaches, String(f.sla_breaches)),
    tile(w.csat, f.csat.average === null ? `– (0 ${w.responses})` : `${f.csat.average} / 5 (${f.csat.responses} ${w.responses})`),
  ].join('');
}

function table(head: string[], rows: string[][], words: Words): string {
  if (rows.length === 0) return `<p class="none">${escape(words.none)}</p>`;
  const th = head.map((h) => `<th>${escape(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<td>${escape(c)}</td>` : `<td class="n">${escape(c)}</td>`)).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

/** The report as one self-contained HTML page. */
export function reportHtml(report: Report, language: Language = 'en'): string {
  const w = TEXT[language];
  const days = Object.keys(report.by_day);
  const shortDay = (d: string) => d.slice(5);
  const daily = columns(days.map(shortDay), [
    { values: days.map((d) => report.by_day[d]!.inbound), color: COLORS.inbound },
    { values: days.map((d) => report.by_day[d]!.answered_by_bot), color: COLORS.bot },
    { values: days.map((d) => report.by_day[d]!.escalated), color: COLORS.escalated },
  ]);
  const dailyHuman = columns(
    days.map(shortDay),
    [{ values: days.map((d) => report.by_day[d]!.first_response_business_seconds.human.p50 ?? 0), color: COLORS.human }],
    (v) => humanDuration(v),
  );
  const channels = Object.entries(report.by_channel);
  const channelRows = channels.map(([name, f]) => [name, String(f.inbound), String(f.answered_by_bot), String(f.escalated), percent(f.response_rate), pair(f.first_response_seconds.human), String(f.sla_breaches)]);
  const faq = Object.entries(report.by_faq)
    .sort((a, b) => b[1].inbound - a[1].inbound || (a[0] < b[0] ? -1 : 1))
    .slice(0, 15)
    .map(([id, f]) => [id, String(f.inbound), String(f.answered_by_bot), String(f.escalated)]);
  const operators = Object.entries(report.by_operator).map(([name, f]) => [name, String(f.replies), pair(f.first_response_seconds), String(f.resolved), String(f.sla_breaches), f.csat.average === null ? '–' : String(f.csat.average)]);
  const csat = columns(['1', '2', '3', '4', '5'], [{ values: (['1', '2', '3', '4', '5'] as const).map((k) => report.csat.distribution[k]), color: COLORS.bot }]);
  const fromDay = days[0] ?? report.from;
  const toDay = days.at(-1) ?? report.to;
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(w.title)} ${escape(fromDay)} – ${escape(toDay)}</title>
<style>
  @page { size: A4; margin: 14mm; }
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 760px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 22px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
  .meta { color: #666; font-size: 12px; }
  .tiles { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
  .tile { border: 1px solid #ddd; border-radius: 6px; padding: 8px; break-inside: avoid; }
  .tile .value { font-size: 18px; font-weight: 600; }
  .tile .label { font-size: 11px; color: #555; }
  .chart { display: block; max-width: 100%; }
  .legend { font-size: 11px; color: #555; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; }
  th, td { border-bottom: 1px solid #eee; padding: 4px 6px; text-align: left; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .none { color: #888; font-size: 12px; }
  section { break-inside: avoid; }
  @media print { body { margin: 0; max-width: none; } }
</style>
</head>
<body>
<h1>${escape(w.title)}</h1>
<p class="meta">${escape(w.period)}: ${escape(fromDay)} – ${escape(toDay)} (${escape(w.timezone)} ${escape(report.timezone)}) · ${escape(w.generated)} ${escape(report.generated_at)}</p>
<section><div class="tiles">${tiles(report, w)}</div></section>
<section><h2>${escape(w.daily)}</h2>${daily}<p class="legend"><span style="color:${COLORS.inbound}">■</span> <span style="color:${COLORS.bot}">■</span> <span style="color:${COLORS.escalated}">■</span> ${escape(w.dailyLegend)}</p></section>
<section><h2>${escape(w.dailyResponse)}</h2>${dailyHuman}</section>
<section><h2>${escape(w.byChannel)}</h2>${bars(channels.map(([n, f]) => [n, f.inbound]), w)}${table([w.channel, w.inbound, w.answeredByBot, w.escalated, w.responseRate, w.frHuman, w.slaBreaches], channelRows, w)}</section>
<section><h2>${escape(w.reasons)}</h2>${bars(Object.entries(report.escalation_reasons), w, COLORS.escalated)}</section>
<section><h2>${escape(w.faq)}</h2>${table([w.entry, w.inbound, w.answeredByBot, w.escalated], faq, w)}</section>
<section><h2>${escape(w.operators)}</h2>${table([w.operator, w.replies, w.frHuman, w.resolved, w.slaBreaches, w.csat], operators, w)}</section>
<section><h2>${escape(w.csat)}</h2>${report.csat.responses === 0 ? `<p class="none">${escape(w.none)}</p>` : `${csat}<p class="legend">${escape(w.distribution)} 1–5 · ${report.csat.responses} ${escape(w.responses)}</p>`}</section>
</body>
</html>
`;
}
