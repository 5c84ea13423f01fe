// bgfn's runs page: the server renders every view (html/template); this
// script follows /.bgfn/api/events and, when something the view shows
// changes, fetches the view again with ?partial=1 and swaps the part that
// is live (#live). Log lines of the run on screen are appended as they
// come. Buttons call the JSON API. No library, no build step.
'use strict';

const $ = (sel, el) => (el || document).querySelector(sel);
const $$ = (sel, el) => Array.from((el || document).querySelectorAll(sel));
const watch = document.body.dataset.watch || '';
const runID = watch.startsWith('run:') ? watch.slice(4) : '';

// --- live refresh: at most one fetch in flight, one more queued, and
// none sooner than 100 ms after the last, so a burst of events costs a
// few fetches and a change shows well within a second.
let inflight = false, again = false, last = '';

function partialURL() {
  const u = new URL(location.href);
  u.searchParams.set('partial', '1');
  return u.pathname + u.search;
}

async function refresh() {
  if (inflight) { again = true; return; }
  inflight = true;
  try {
    const r = await fetch(partialURL(), { headers: { Accept: 'text/html' }, cache: 'no-store' });
    if (r.ok) {
      const html = await r.text();
      if (html !== last) { swap(html); last = html; }
    }
  } catch (e) { /* the server is gone: the connection badge says so */ }
  await new Promise((res) => setTimeout(res, 100));
  inflight = false;
  if (again) { again = false; refresh(); }
}

// swap replaces #live, keeping which <details> were open.
function swap(html) {
  const live = $('#live');
  const open = $$('details', live).map((d) => d.open);
  live.innerHTML = html;
  $$('details', live).forEach((d, i) => { if (open[i]) d.open = true; });
  tick();
}

// --- the event stream
function connect() {
  const conn = $('#conn');
  const es = new EventSource('/.bgfn/api/events');
  // Once subscribed, fetch the view again: what changed between its render
  // and the subscription would be missed otherwise.
  es.onopen = () => { conn.className = 'conn on'; conn.textContent = 'live'; if (watch) refresh(); };
  es.onerror = () => { conn.className = 'conn off'; conn.textContent = 'offline'; };
  es.addEventListener('record', (ev) => {
    if (!watch) return;
    if (runID) {
      const rec = JSON.parse(ev.data).record;
      if (!rec || rec.id !== runID) return;
    }
    refresh();
  });
  es.addEventListener('log', (ev) => {
    if (!runID) return;
    const e = JSON.parse(ev.data);
    if (e.id === runID) appendLog(e.log);
  });
}

function appendLog(l) {
  const logs = $('#logs');
  if (!logs) return;
  const nol = $('#nologs');
  if (nol) nol.remove();
  const d = document.createElement('div');
  d.className = 'ln ' + l.stream;
  const a = document.createElement('span');
  a.className = 'a';
  a.textContent = '#' + l.attempt;
  const t = document.createElement('time');
  t.textContent = clock(new Date(l.time));
  const s = document.createElement('span');
  s.className = 't';
  s.textContent = l.line;
  d.append(a, ' ', t, ' ', s);
  logs.append(d);
}

const pad = (n, w) => String(n).padStart(w || 2, '0');
const clock = (d) => pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);

function dur(ms) {
  if (ms < 1000) return Math.max(0, Math.round(ms)) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  return Math.floor(ms / 60000) + 'm' + pad(Math.floor(ms / 1000) % 60) + 's';
}

// tick updates running durations and retry countdowns.
function tick() {
  const now = Date.now();
  $$('[data-since]').forEach((el) => { el.textContent = dur(now - Date.parse(el.dataset.since)) + '…'; });
  $$('[data-until]').forEach((el) => {
    const left = Date.parse(el.dataset.until) - now;
    el.textContent = left > 0 ? 'in ' + dur(left) : 'now';
  });
}

// --- the runs filter lives in the URL
function filterChanged() {
  const u = new URL(location.href);
  for (const el of $$('select, input', $('#filter'))) {
    if (el.value) u.searchParams.set(el.name, el.value); else u.searchParams.delete(el.name);
  }
  u.searchParams.delete('limit');
  history.replaceState(null, '', u.pathname + u.search);
  refresh();
}

let searchTimer;
function wireFilter() {
  const f = $('#filter');
  if (!f) return;
  f.addEventListener('change', filterChanged);
  f.addEventListener('input', (e) => {
    if (e.target.name !== 'q') return;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(filterChanged, 150);
  });
  f.addEventListener('submit', (e) => { e.preventDefault(); filterChanged(); });
}

// --- actions
function note(text, bad) {
  const n = $('#action-note');
  if (!n) return;
  n.textContent = text;
  n.className = bad ? 'note err' : 'note';
}

async function errorOf(r) {
  const t = await r.text();
  try { return JSON.parse(t).error || t; } catch (e) { return t || r.statusText; }
}

async function post(path, body, type) {
  const opts = { method: 'POST', headers: {} };
  if (body !== undefined) { opts.body = body; opts.headers['Content-Type'] = type; }
  const r = await fetch(path, opts);
  if (!r.ok) throw new Error(await errorOf(r));
  return r;
}

function parseHeaders(text) {
  const h = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const i = line.indexOf(':');
    if (i <= 0) throw new Error('header line "' + line + '" is not "name: value"');
    h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return h;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
}

// go opens the run that an answer names.
function go(r) {
  const id = r.headers.get('X-Bgfn-Invocation-Id');
  if (id) location.href = '/.bgfn/runs/' + id;
}

async function act(e) {
  const b = e.target.closest('button');
  if (!b) return;
  try {
    if (b.id === 'cancel') {
      note('cancelling…');
      await post('/.bgfn/api/invocations/' + b.dataset.id + '/cancel');
      note('cancelled');
      refresh();
    } else if (b.id === 'retry') {
      await post('/.bgfn/api/invocations/' + b.dataset.id + '/retry');
      note('retrying now');
      refresh();
    } else if (b.classList.contains('copy')) {
      await copy($('#copy-' + b.dataset.copy).value);
      note('copied ' + b.textContent.replace('Copy as ', ''));
    } else if (b.id === 'replay') {
      $('#replay-dialog').showModal();
    } else if (b.id === 'replay-send') {
      e.preventDefault();
      const f = $('#replay-form');
      const edit = { body: f.body.value, headers: parseHeaders(f.headers.value) };
      const r = await post('/.bgfn/api/invocations/' + f.dataset.id + '/replay', JSON.stringify(edit), 'application/vnd.bgfn.replay+json');
      const res = await r.json();
      location.href = '/.bgfn/runs/' + res.id;
    } else if (b.classList.contains('runnow')) {
      go(await fetch('/.netlify/functions/' + b.dataset.name, { method: 'POST' }));
    } else if (b.classList.contains('invoke')) {
      const f = $('#invoke-form');
      $('#invoke-name').textContent = b.dataset.name;
      f.path.value = b.dataset.path;
      $('#invoke-dialog').showModal();
    } else if (b.id === 'invoke-send') {
      e.preventDefault();
      const f = $('#invoke-form');
      const m = f.method.value;
      const opts = { method: m, headers: parseHeaders(f.headers.value) };
      if (m !== 'GET' && m !== 'HEAD') opts.body = f.body.value;
      go(await fetch(f.path.value, opts));
    } else if (b.id === 'blob-delete') {
      if (b.dataset.armed !== '1') { b.dataset.armed = '1'; b.textContent = 'Really delete?'; return; }
      const r = await fetch(b.dataset.path, { method: 'DELETE' });
      if (!r.ok && r.status !== 404) throw new Error(await errorOf(r));
      location.href = b.dataset.back;
    }
  } catch (err) {
    const where = b.id === 'replay-send' ? $('#replay-error') : b.id === 'invoke-send' ? $('#invoke-error') : null;
    if (where) where.textContent = err.message; else note(err.message, true);
  }
}

document.addEventListener('click', act);
wireFilter();
tick();
setInterval(tick, 500);
if (watch === 'functions') setInterval(refresh, 1000); // build states change without records
connect();
document.body.dataset.ready = '1';
