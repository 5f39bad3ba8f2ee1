// sunbeam's operator console: recent events with their progress per state,
// failed deliveries and their replay, cancel, and connectors' suspend/resume,
// refreshed every 2 s while the tab is visible. It talks only to the API
// (docs/api.md) with the token the operator pastes, kept in sessionStorage.
//
// Everything that comes from the API is written with textContent (through
// el() below), never as HTML: ids, reasons and messages come from outside.
'use strict';

const POLL_MS = 2000;
const GET_TIMEOUT_MS = 10000;
const POST_TIMEOUT_MS = 20000;  // a cancel answers within 10 s
const TOKEN_KEY = 'sunbeam.console.token';
const FAILURES_SHOWN = 100;

// An event's bar: each segment sums some states of the API's `totals`.
const SEGMENTS = [
  {name: 'sent', states: ['sent', 'delivered', 'undelivered']},
  {name: 'failed', states: ['failed']},
  {name: 'suppressed', states: ['suppressed']},
  {name: 'cancelled', states: ['cancelled']},
  {name: 'expired', states: ['expired']},
  {name: 'waiting', states: ['waiting', 'deferred', 'digest']},
];

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  filters: {},            // the failures' filters last applied
  replayId: null,         // the replay being followed
  cancelAnswers: new Map(),  // event id -> what its cancel answered
  connectorNote: '',      // what the last suspend or resume answered
  rendered: new Map(),    // section -> JSON of what it shows now
  timer: null,
  refreshing: false,
  refreshAgain: false,
};

// ---- DOM -------------------------------------------------------------------

// el('td', {class: 'num'}, 'text', child): strings become text nodes.
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'style') Object.assign(node.style, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'role' || key.includes('-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

function byId(id) {
  return document.getElementById(id);
}

// Shows `text` in `node`, or hides it when there is none.
function say(node, text) {
  node.textContent = text || '';
  node.hidden = !text;
}

// A section's line of news: an error (red) or a note.
function sectionMessage(section, text, isError) {
  const node = byId(section).querySelector(':scope > .section-message');
  node.classList.toggle('error', Boolean(isError));
  say(node, text);
}

// Replaces a table's rows, keeping the keyboard focus on the same button.
function replaceRows(tbody, rows) {
  const focused = document.activeElement && document.activeElement.dataset.focusKey;
  tbody.replaceChildren(...rows);
  if (focused) {
    const again = [...tbody.querySelectorAll('[data-focus-key]')].find((n) => n.dataset.focusKey === focused);
    if (again) again.focus();
  }
}

// Calls render(data) only when the data differs from what the section shows.
function renderIfChanged(section, data, render) {
  const json = JSON.stringify(data);
  if (state.rendered.get(section) === json) return;
  state.rendered.set(section, json);
  render(data);
}

function pad(n) {
  return String(n).padStart(2, '0');
}

function clockTime(date) {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

// An RFC 3339 time from the API in the browser's time zone.
function localTime(text) {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return text || '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clockTime(d)}`;
}

// ---- API -------------------------------------------------------------------

class ApiError extends Error {
  // status 0: the engine could not be reached.
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), method === 'GET' ? GET_TIMEOUT_MS : POST_TIMEOUT_MS);
  let response;
  try {
    response = await fetch(path, {method, headers, signal: abort.signal, cache: 'no-store',
                                  body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    throw new ApiError(0, 'unreachable', abort.signal.aborted ? 'no answer in time' : e.message);
  } finally {
    clearTimeout(timer);
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch (e) {
    answer = null;  // not JSON (a proxy's error page): the status says enough
  }
  if (!response.ok) {
    const error = (answer && answer.error) || {};
    throw new ApiError(response.status, error.code || '', error.message || response.statusText);
  }
  return answer;
}

// What a person should read for a failed call.
function describe(error) {
  if (error.status === 0) return `The engine cannot be reached (${error.message}).`;
  if (error.status === 401) {
    return state.token ? 'This token was not accepted (401 unauthorized): check it and sign in again.'
                       : 'Sign in: paste an operator\'s token above (401 unauthorized).';
  }
  if (error.status === 403) return 'This token is not an operator\'s (403 forbidden).';
  return `${error.message} (${error.status}${error.code ? ' ' + error.code : ''})`;
}

// Runs one section's load; shows what it has to say (a note it returns, or
// its error) in the section, and returns the error.
async function loadSection(section, load) {
  try {
    sectionMessage(section, await load());
    return null;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    // Unreachable and 401 are said once, at the top.
    if (e.status !== 0 && e.status !== 401) sectionMessage(section, describe(e), true);
    return e;
  }
}

// ---- sign in ---------------------------------------------------------------

function signIn(event) {
  event.preventDefault();
  const input = byId('token');
  const token = input.value.trim();
  if (!token) {
    say(byId('auth-message'), 'Paste a token first.');
    return;
  }
  input.value = '';
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  state.rendered.clear();
  say(byId('auth-message'), '');
  showSignedIn();
  refresh();
}

function signOut() {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  showSignedIn();
  say(byId('auth-message'), 'Signed out.');
  refresh();
}

function showSignedIn() {
  byId('sign-out').hidden = !state.token;
  byId('token').placeholder = state.token ? 'signed in; paste another token to switch' : 'paste the bearer token';
}

// A 401: the token is wrong (or none was given): forget it and stop polling.
function rejectToken(error) {
  say(byId('auth-message'), describe(error));  // before the token goes: it says whether one was offered
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  showSignedIn();
}

// ---- events ----------------------------------------------------------------

function segmentCounts(totals) {
  return SEGMENTS.map((s) => ({
    name: s.name,
    count: s.states.reduce((sum, key) => sum + (Number(totals[key]) || 0), 0),
    detail: s.states.map((key) => `${key} ${Number(totals[key]) || 0}`).join(', '),
  }));
}

// A stacked bar and its legend; `of` is what 100% is.
function progressBar(segments, of) {
  const bar = el('div', {class: 'bar', 'aria-hidden': 'true'},
    segments.filter((s) => s.count > 0 && of > 0).map((s) =>
      el('span', {class: `segment ${s.name}`, title: `${s.name} ${s.count}`,
                  style: {width: `${(100 * s.count) / of}%`}})));
  const legend = el('ul', {class: 'legend'},
    segments.map((s) => el('li', {class: s.count ? s.name : `${s.name} zero`, title: s.detail || ''},
      el('span', {class: 'swatch', 'aria-hidden': 'true'}), `${s.name} ${s.count}`)));
  return [bar, legend];
}

function eventCondition(e) {
  if (e.cancelled) return 'cancelled';
  if (!e.fanned_out) return 'fanning out';
  if (e.settled) return 'settled';
  if (e.at_rest) return 'deferred';
  return 'sending';
}

function eventRow(e) {
  const totals = e.totals || {};
  const planned = Number(totals.planned) || 0;
  const answer = state.cancelAnswers.get(e.event_id);
  const busy = answer === 'cancelling…';
  const button = el('button', {type: 'button', class: 'danger', dataset: {focusKey: `cancel:${e.event_id}`},
                               disabled: busy || e.settled || e.cancelled,
                               title: e.settled ? 'every delivery has an outcome: nothing left to cancel' : '',
                               onclick: () => cancelEvent(e.event_id)}, 'Cancel…');
  return el('tr', {dataset: {event: e.event_id}},
    el('td', null, el('code', null, e.event_id), el('div', {class: `condition ${eventCondition(e).replace(' ', '-')}`},
                                                     eventCondition(e))),
    el('td', null, e.event_type || ''),
    el('td', {title: e.time || ''}, localTime(e.time)),
    el('td', {class: 'progress'}, el('div', {class: 'planned'}, `${planned} planned`),
       progressBar(segmentCounts(totals), planned)),
    el('td', {class: 'cancel'}, button, answer ? el('div', {class: 'answer', role: 'status'}, answer) : null));
}

function renderEvents(events) {
  replaceRows(byId('events-body'), events.map(eventRow));
  byId('events-empty').hidden = events.length > 0;
}

async function loadEvents() {
  const answer = await api('GET', '/v1/events?limit=50');
  renderIfChanged('events', {events: answer.events, answers: [...state.cancelAnswers]},
                  () => renderEvents(answer.events || []));
  return answer.loading ? 'The status index is still loading: counts may be incomplete.' : '';
}

async function cancelEvent(id) {
  if (!window.confirm(`Cancel event ${id}?\n\nIts deliveries not yet sent end cancelled. This cannot be undone.`)) return;
  state.cancelAnswers.set(id, 'cancelling…');
  await loadSection('events', loadEvents);
  try {
    const a = await api('POST', `/v1/events/${encodeURIComponent(id)}/cancel`);
    let text = `cancelled ${a.cancelled} (${a.already_sent} already sent)`;
    if (a.pending > 0) text += `, ${a.pending} still settling`;
    state.cancelAnswers.set(id, text);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    state.cancelAnswers.set(id, `not cancelled: ${describe(e)}`);
  }
  await loadSection('events', loadEvents);
}

// ---- failures and replay ---------------------------------------------------

// The filters as typed, without the empty ones.
function readFilters() {
  const filters = {};
  for (const name of ['event', 'since', 'connector', 'reason']) {
    const value = byId(`filter-${name}`).value.trim();
    if (value) filters[name] = value;
  }
  return filters;
}

function describeFilters(filters) {
  return Object.entries(filters).map(([k, v]) => `${k} ${v}`).join(', ');
}

function failureRow(f) {
  return el('tr', null,
    el('td', {title: f.time || ''}, localTime(f.time)),
    el('td', null, el('code', null, f.event_id), el('div', {class: 'condition'}, f.event_type || '')),
    el('td', null, f.account || ''),
    el('td', null, f.channel || ''),
    el('td', null, f.tier || ''),
    el('td', null, f.connector || ''),
    el('td', {class: 'num'}, String(f.attempt ?? '')),
    el('td', {class: 'reason'}, f.reason || ''));
}

function renderFailures(page) {
  const rows = page.failures || [];
  replaceRows(byId('failures-body'), rows.map(failureRow));
  const filtered = Object.keys(state.filters).length ? ` matching ${describeFilters(state.filters)}` : '';
  let total = `${page.total} failed deliveries${filtered}`;
  if (page.total === 0) total = `No failed deliveries${filtered}.`;
  else if (rows.length < page.total) total += `; the newest ${rows.length} are shown.`;
  byId('failures-total').textContent = total;
}

async function loadFailures() {
  const query = new URLSearchParams({...state.filters, limit: String(FAILURES_SHOWN)});
  const page = await api('GET', `/v1/failures?${query}`);
  renderIfChanged('failures', page, renderFailures);
}

function applyFilters(event) {
  if (event) event.preventDefault();
  state.filters = readFilters();
  refresh();
}

// A replay needs a filter: replaying every failure is the CLI's job (`--all`).
function replayFilters() {
  applyFilters();
  if (Object.keys(state.filters).length === 0) {
    say(byId('dry-run-result'), 'Set a filter first (event, since, connector or reason): the console does not replay everything.');
    return null;
  }
  return state.filters;
}

async function countMatches(filters) {
  const answer = await api('POST', '/v1/replays', {selector: filters, dry_run: true});
  return answer.matched;
}

async function dryRun() {
  const filters = replayFilters();
  if (!filters) return;
  try {
    const n = await countMatches(filters);
    say(byId('dry-run-result'), `Dry run: ${n} match (${describeFilters(filters)}); nothing was queued.`);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    say(byId('dry-run-result'), `Dry run failed: ${describe(e)}`);
  }
}

async function replay() {
  const filters = replayFilters();
  if (!filters) return;
  try {
    const n = await countMatches(filters);
    if (n === 0) {
      say(byId('dry-run-result'), `0 match (${describeFilters(filters)}): nothing to replay.`);
      return;
    }
    if (!window.confirm(`Replay ${n} failed deliveries (${describeFilters(filters)})?\n\nEach is queued once more.`)) return;
    const started = await api('POST', '/v1/replays', {selector: filters, dry_run: false});
    say(byId('dry-run-result'), '');
    state.replayId = started.replay_id;
    renderReplay({replay_id: started.replay_id, matched: started.matched, queued: 0, sent: 0, failed: 0,
                  pending: started.matched, done: false});
    refresh();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    say(byId('dry-run-result'), `Replay failed: ${describe(e)}`);
  }
}

function renderReplay(r) {
  const of = Number(r.matched) || 0;
  const pending = Math.max(0, of - (r.sent || 0) - (r.failed || 0));
  const head = r.done ? `Replay ${r.replay_id} done` : `Replay ${r.replay_id} in progress`;
  byId('replay-text').textContent =
    `${head}: ${r.sent} sent, ${r.failed} failed again, ${pending} pending, of ${of} matched.`;
  byId('replay-bar').replaceChildren(...progressBar([
    {name: 'sent', count: r.sent || 0}, {name: 'failed', count: r.failed || 0},
    {name: 'waiting', count: pending}], of)[0].childNodes);
  byId('replay-progress').hidden = false;
}

async function loadReplay() {
  if (!state.replayId) return;
  let r;
  try {
    r = await api('GET', `/v1/replays/${encodeURIComponent(state.replayId)}`);
  } catch (e) {
    if (e.status === 404) state.replayId = null;  // the engine forgot it: stop asking
    throw e;
  }
  renderReplay(r);
  if (r.done) state.replayId = null;  // finished: stop asking, keep the last words on screen
}

// ---- connectors ------------------------------------------------------------

function connectorRow(c) {
  const action = c.suspended ? 'Resume' : 'Suspend';
  return el('tr', {dataset: {connector: c.name}},
    el('td', null, el('code', null, c.name), c.role ? el('div', {class: 'condition'}, c.role) : null),
    el('td', null, c.kind || ''),
    el('td', null, (c.channels || []).join(', ')),
    el('td', null, el('span', {class: `badge ${c.suspended ? 'suspended' : 'active'}`}, c.suspended ? 'suspended' : 'active')),
    el('td', null, el('span', {class: `badge breaker-${c.breaker}`}, String(c.breaker || '').replace('_', ' '))),
    el('td', {class: 'num'}, c.rate === null || c.rate === undefined ? 'unlimited' : `${c.rate}/s`),
    ['queued', 'in_flight', 'sent', 'failed'].map((k) => el('td', {class: 'num'}, String(c[k] ?? ''))),
    el('td', null, el('button', {type: 'button', dataset: {focusKey: `${action}:${c.name}`},
                                 class: c.suspended ? '' : 'danger',
                                 onclick: () => setSuspended(c.name, !c.suspended)}, action)));
}

function renderConnectors(list) {
  replaceRows(byId('connectors-body'), list.map(connectorRow));
  byId('connector-names').replaceChildren(...list.map((c) => el('option', {value: c.name})));
}

async function loadConnectors() {
  const answer = await api('GET', '/v1/connectors');
  renderIfChanged('connectors', answer.connectors || [], renderConnectors);
  return state.connectorNote;
}

async function setSuspended(name, suspend) {
  const verb = suspend ? 'suspend' : 'resume';
  try {
    const c = await api('POST', `/v1/connectors/${encodeURIComponent(name)}/${verb}`);
    state.connectorNote = suspend ? `${name} suspended: its deliveries wait in the queue.` : `${name} resumed.`;
    sectionMessage('connectors', state.connectorNote);
    // Show the order's effect now; the next poll confirms it.
    const shown = JSON.parse(state.rendered.get('connectors') || '[]').map((x) => (x.name === name ? c : x));
    renderIfChanged('connectors', shown, renderConnectors);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    state.connectorNote = '';
    sectionMessage('connectors', `${name} not ${verb}d: ${describe(e)}`, true);
  }
}

// ---- refresh ---------------------------------------------------------------

// Loads every section at once; then says when, or why not.
async function refresh() {
  if (state.refreshing) {
    state.refreshAgain = true;
    return;
  }
  state.refreshing = true;
  clearTimeout(state.timer);
  const token = state.token;
  const errors = (await Promise.all([
    loadSection('events', loadEvents), loadSection('failures', loadFailures),
    loadSection('connectors', loadConnectors), loadSection('replay-status', loadReplay)])).filter(Boolean);
  state.refreshing = false;

  const unreachable = errors.find((e) => e.status === 0);
  say(byId('banner'), unreachable ? `${describe(unreachable)} Retrying every ${POLL_MS / 1000} s; ` +
                                    `what is shown is as of the last update.` : '');
  // A 401 for a token since replaced (someone signed in meanwhile) is old news.
  const rejected = errors.find((e) => e.status === 401) && state.token === token;
  if (rejected) {
    rejectToken(errors.find((e) => e.status === 401));
  } else {
    const forbidden = errors.find((e) => e.status === 403);
    say(byId('auth-message'), forbidden ? `${describe(forbidden)} It may view events and connectors, ` +
                                          'not failures, replays, cancel or suspend.' : '');
    if (!unreachable) byId('updated').textContent = `updated ${clockTime(new Date())}`;
  }
  if (state.refreshAgain) {
    state.refreshAgain = false;
    refresh();
  } else if (!rejected) {
    schedule();  // after a 401 nothing is polled until someone signs in
  }
}

function schedule() {
  clearTimeout(state.timer);
  if (!document.hidden) state.timer = setTimeout(refresh, POLL_MS);
}

// A hidden tab asks nothing; it catches up as soon as it is seen again.
function onVisibilityChange() {
  if (document.hidden) clearTimeout(state.timer);
  else refresh();
}

function start() {
  byId('sign-in').addEventListener('submit', signIn);
  byId('sign-out').addEventListener('click', signOut);
  byId('filters').addEventListener('submit', applyFilters);
  byId('dry-run').addEventListener('click', dryRun);
  byId('replay').addEventListener('click', replay);
  document.addEventListener('visibilitychange', onVisibilityChange);
  showSignedIn();
  refresh();
}

start();
