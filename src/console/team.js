// @ts-check
// Presence (every operator sets online or away in the top bar), teams' queue views in the pane,
// and the admins' page for teams and auto-assignment (on or off, a cap per operator, language and
// channel skills, when an away operator's cases return to the queue). Reads and writes
// /api/operator/presence, /assignment and /teams (docs/operator-desk-api.md).
import { api } from './api.js';
import { $, h, toast } from './dom.js';
import { t } from './i18n.js';

/**
 * @typedef {{ id: string, name: string, members: string[], channels: string[], languages: string[] }} Team
 * @typedef {{ auto_assign: boolean, capacity: number, away_return_minutes: number | null, skills: Record<string, { languages: string[], channels: string[] }> }} Settings
 * @typedef {{ id: string, name: string, status: 'online' | 'away', since: string | null, disconnected: boolean }} PresenceRow
 */

/**
 * @typedef {{ me: () => { id: string, role: string } | undefined, operators: () => Array<{ id: string, name: string }>, teamsChanged: (teams: Team[]) => void, fail: (err: unknown) => void }} TeamHost
 */
/** @type {TeamHost} */
let host;
/** @type {'online' | 'away' | undefined} */
let myStatus;
/** @type {Team[]} */
let teams = [];
/** @type {Map<string, PresenceRow>} */
let presence = new Map();

const split = (/** @type {string} */ s) => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);

function renderPresenceButton() {
  const button = $('presence');
  button.hidden = myStatus === undefined;
  const online = myStatus === 'online';
  button.textContent = online ? t('presenceOnline') : t('presenceAway');
  button.className = `ghost presence ${online ? 'online' : 'away'}`;
  button.setAttribute('aria-pressed', String(online));
  button.title = online ? t('presenceGoAway') : t('presenceGoOnline');
}

/** Reads who is online (the operator's own status for the button), and the teams. */
export async function loadPresence() {
  /** @type {{ operators: PresenceRow[] }} */
  const answer = await api('GET', '/presence');
  presence = new Map(answer.operators.map((o) => [o.id, o]));
  const me = host.me();
  myStatus = me ? presence.get(me.id)?.status : undefined;
  renderPresenceButton();
  if (!$('desk-admin').hidden) renderOperators(await api('GET', '/assignment'));
}

/** Reads the teams (for the pane's views and the admins' page). */
export async function loadTeams() {
  /** @type {{ teams: Team[] }} */
  const answer = await api('GET', '/teams');
  teams = answer.teams;
  host.teamsChanged(teams);
  if (!$('desk-admin').hidden) renderTeams();
}

/**
 * A presence event: the top bar follows (another tab, or the server marking the operator away).
 * @param {{ operatorId: string, status: 'online' | 'away' }} event
 */
export function presenceChanged(event) {
  const row = presence.get(event.operatorId);
  if (row) presence.set(event.operatorId, { ...row, status: event.status });
  if (event.operatorId === host.me()?.id) {
    myStatus = event.status;
    renderPresenceButton();
  }
  if (!$('desk-admin').hidden) loadAdmin().catch(host.fail);
}

/** Settings changed by an admin somewhere: teams (views) and the admin page are read again. */
export function settingsChanged() {
  loadTeams().catch(host.fail);
  if (!$('desk-admin').hidden) loadAdmin().catch(host.fail);
}

async function loadAdmin() {
  /** @type {Settings} */
  const settings = await api('GET', '/assignment');
  /** @type {{ operators: PresenceRow[] }} */
  const answer = await api('GET', '/presence');
  presence = new Map(answer.operators.map((o) => [o.id, o]));
  $('assign-auto').checked = settings.auto_assign;
  $('assign-capacity').value = String(settings.capacity);
  $('assign-away').value = settings.away_return_minutes === null ? '' : String(settings.away_return_minutes);
  renderOperators(settings);
  renderTeams();
}

/**
 * The operators' presence and skills (languages and channels they take with auto-assignment).
 * @param {Settings} settings
 */
function renderOperators(settings) {
  const rows = host.operators().map((o) => {
    const skills = settings.skills[o.id] ?? { languages: [], channels: [] };
    const p = presence.get(o.id);
    return h(
      'tr',
      { 'data-operator': o.id },
      h('th', { scope: 'row' }, o.name),
      h('td', {}, h('span', { class: `presence-dot ${p?.status ?? 'away'}` }), ` ${p?.status === 'online' ? t('online') : t('away')}`),
      h('td', {}, h('input', { class: 'skill-languages', 'aria-label': t('skillLanguagesOf', { name: o.name }), value: skills.languages.join(', '), placeholder: 'it, en', autocomplete: 'off' })),
      h('td', {}, h('input', { class: 'skill-channels', 'aria-label': t('skillChannelsOf', { name: o.name }), value: skills.channels.join(', '), placeholder: t('skillChannelsHint'), autocomplete: 'off' })),
    );
  });
  $('assign-operators').replaceChildren(...rows);
}

function renderTeams() {
  const list = $('team-list');
  list.replaceChildren(
    ...(teams.length === 0
      ? [h('li', { class: 'muted' }, t('noTeams'))]
      : teams.map((team) =>
          h(
            'li',
            { class: 'saved-item', 'data-team': team.id },
            h('strong', {}, team.name),
            h('span', {}, `${t('teamMembers')}: ${team.members.map((id) => host.operators().find((o) => o.id === id)?.name ?? id).join(', ') || '–'}`),
            h('span', { class: 'muted' }, `${t('teamChannels')}: ${team.channels.join(', ') || t('any')} · ${t('teamLanguages')}: ${team.languages.join(', ') || t('any')}`),
            h('span', { class: 'review-actions' }, h('button', { type: 'button', class: 'small', 'aria-label': `${t('delete')} ${team.name}`, onclick: () => removeTeam(team) }, t('delete'))),
          ),
        )),
  );
  $('team-members').replaceChildren(
    ...host.operators().map((o) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: o.id, name: 'member' }), ` ${o.name}`)),
  );
}

/** @param {Team} team */
async function removeTeam(team) {
  try {
    await api('DELETE', `/teams/${encodeURIComponent(team.id)}`);
    toast(t('teamDeleted'), 'ok');
    await loadTeams();
  } catch (err) {
    host.fail(err);
  }
}

/** @param {TeamHost} app */
export function setupTeams(app) {
  host = app;
  $('presence').addEventListener('click', async () => {
    const next = myStatus === 'online' ? 'away' : 'online';
    try {
      const answer = await api('POST', '/presence', { status: next });
      myStatus = answer.status;
      renderPresenceButton();
    } catch (err) {
      host.fail(err);
    }
  });

  $('desk-admin-toggle').textContent = t('deskAdminButton');
  $('desk-admin-title').textContent = t('deskAdminTitle');
  $('assign-title').textContent = t('assignTitle');
  $('assign-auto-label').textContent = t('assignAuto');
  $('assign-capacity-label').textContent = t('assignCapacity');
  $('assign-away-label').textContent = t('assignAway');
  $('assign-col-operator').textContent = t('filter.operator');
  $('assign-col-presence').textContent = t('presence');
  $('assign-col-languages').textContent = t('skillLanguages');
  $('assign-col-channels').textContent = t('skillChannels');
  $('assign-save').textContent = t('save');
  $('teams-title').textContent = t('teamsTitle');
  $('team-name-label').textContent = t('teamName');
  $('team-members-label').textContent = t('teamMembers');
  $('team-channels-label').textContent = t('teamChannels');
  $('team-languages-label').textContent = t('teamLanguages');
  $('team-add').textContent = t('teamAdd');
  $('desk-admin-toggle').addEventListener('click', () => {
    const panel = $('desk-admin');
    panel.hidden = !panel.hidden;
    $('desk-admin-toggle').setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) loadAdmin().catch(host.fail);
  });
  $('assign-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {Settings['skills']} */
    const skills = {};
    for (const row of /** @type {NodeListOf<HTMLElement>} */ ($('assign-operators').querySelectorAll('tr[data-operator]'))) {
      const languages = split(/** @type {HTMLInputElement} */ (row.querySelector('.skill-languages')).value);
      const channels = split(/** @type {HTMLInputElement} */ (row.querySelector('.skill-channels')).value);
      if (languages.length || channels.length) skills[row.dataset.operator ?? ''] = { languages, channels };
    }
    const away = $('assign-away').value.trim();
    try {
      await api('PUT', '/assignment', {
        auto_assign: $('assign-auto').checked,
        capacity: Number($('assign-capacity').value),
        away_return_minutes: away === '' ? null : Number(away),
        skills,
      });
      toast(t('assignSaved'), 'ok');
      await loadAdmin();
    } catch (err) {
      host.fail(err);
    }
  });
  $('team-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const members = Array.from(/** @type {NodeListOf<HTMLInputElement>} */ ($('team-members').querySelectorAll('input:checked'))).map((i) => i.value);
    try {
      await api('POST', '/teams', { name: $('team-name').value.trim(), members, channels: split($('team-channels').value), languages: split($('team-languages').value) });
      toast(t('teamSaved'), 'ok');
      $('team-form').reset();
      await loadTeams();
    } catch (err) {
      host.fail(err);
    }
  });
}
