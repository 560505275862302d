// SPDX-License-Identifier: Apache-2.0
/*
 * The ICT manager's dashboard, drawn from collectord's API.
 *
 * Rule one: everything a laptop sent (hostnames, serials, user names, USB
 * product names, application paths, summaries) reaches the page as text:
 * elements are built with createElement and filled with text nodes; no
 * innerHTML anywhere, and the Content-Security-Policy forbids inline
 * script. Charts are SVG built the same way.
 */
'use strict';

const STATUSES = ['fail', 'warn', 'unknown', 'pass'];
const STATUS_WORDS = {
  pass: 'Compliant', warn: 'Warning', fail: 'Fails', unknown: 'Unknown',
};
const CHECK_WORDS = {
  encryption: 'Disk encryption',
  screen_lock: 'Screen lock',
  usb_storage: 'USB storage',
  camera: 'Camera',
};
const EVENT_WORDS = {
  usb_device: 'USB device',
  camera_session: 'Camera in use',
  unattended_session: 'Left unlocked',
  unattended_session_end: 'Back at the laptop',
  status_change: 'Status changed',
  policy_loaded: 'Policy loaded',
  policy_error: 'Policy refused',
  report_rejected: 'Report refused',
  reports_dropped: 'Reports dropped',
  events_dropped: 'Events dropped',
  spool_write_failed: 'Disk full',
};
const PER_PAGE = 50;

const state = { name: null, csrf: null, groups: null };

/* --- building the page, as text --- */

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'width%') el.style.width = v + '%';
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVGNS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {}))
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  return append(el, children);
}

function text(v, none) {
  return v === null || v === undefined || v === '' ? (none || '—') : String(v);
}

function checkName(id) {
  return CHECK_WORDS[id] || id;
}

function badge(status) {
  const st = STATUSES.includes(status) ? status : 'unknown';
  return h('span', { class: 'badge ' + st }, STATUS_WORDS[st]);
}

function when(t) {
  if (t === null || t === undefined) return '—';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  if (isNaN(d)) return String(t);
  return d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

function ago(t) {
  if (!t) return 'never';
  const s = Math.max(0, Date.now() / 1000 - t);
  if (s < 90) return 'just now';
  if (s < 5400) return Math.round(s / 60) + ' minutes ago';
  if (s < 129600) return Math.round(s / 3600) + ' hours ago';
  return Math.round(s / 86400) + ' days ago';
}

function pct(n, of) {
  return of ? Math.round((1000 * n) / of) / 10 : 0;
}

function link(href, ...children) {
  return h('a', { href }, ...children);
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== null && v !== undefined && v !== '' && v !== false) q.set(k, v);
  const t = q.toString();
  return t ? '?' + t : '';
}

/* --- talking to collectord --- */

class SignedOut extends Error {}

async function api(path, opts) {
  const o = opts || {};
  const headers = { 'X-Dashboard': '1' };
  if (o.method && o.method !== 'GET') headers['X-CSRF-Token'] = state.csrf || '';
  if (o.json !== undefined) headers['Content-Type'] = 'application/json';
  if (o.text !== undefined) headers['Content-Type'] = 'text/plain; charset=utf-8';
  const r = await fetch(path, {
    method: o.method || 'GET',
    headers,
    credentials: 'same-origin',
    body: o.json !== undefined ? JSON.stringify(o.json) : o.text,
  });
  let body = null;
  try {
    body = o.asText && r.ok ? await r.text() : await r.json();
  } catch (e) {
    body = null;
  }
  if (r.status === 401 && !o.allow401) {
    signedOut();
    throw new SignedOut();
  }
  if (!r.ok && !o.allowError) {
    throw new Error((body && body.error) || 'The collector answered ' + r.status);
  }
  return { status: r.status, body };
}

function signedOut() {
  state.name = state.csrf = null;
  const here = location.pathname + location.search;
  go('/login' + (here !== '/' && here !== '/login' ? query({ next: here }) : ''), true);
}

/* --- navigation --- */

function go(url, replace) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route();
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || ev.button !== 0 ||
      ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  ev.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener('popstate', () => route());

const main = () => document.getElementById('main');

function show(title, ...content) {
  document.title = title + ' · Laptop compliance';
  const m = main();
  m.replaceChildren(...content.flat().filter(Boolean));
  for (const a of document.querySelectorAll('header nav a')) {
    const p = a.getAttribute('href');
    const on = p === '/' ? location.pathname === '/' : location.pathname.startsWith(p);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function problem(msg) {
  return h('p', { class: 'problem', role: 'alert' }, msg);
}

let routing = 0;
async function route() {
  const mine = ++routing;
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  try {
    if (path === '/login') return await loginPage(params);
    if (!state.name) {
      const r = await api('/api/v1/session');
      state.name = r.body.name;
      state.csrf = r.body.csrf;
    }
    document.getElementById('top').hidden = false;
    document.getElementById('who').textContent = 'Signed in as ' + state.name;
    if (path === '/') await overviewPage(mine);
    else if (path === '/laptops') await laptopsPage(params, mine);
    else if (/^\/laptops\/\d+$/.test(path)) await laptopPage(path.slice(9), mine);
    else if (path === '/events') await eventsPage(params, mine);
    else if (path === '/policy') await policyPage(params, mine);
    else if (path === '/report') await reportPage(params, mine);
    else show('Not found', h('h1', {}, 'There is no such page'), link('/', 'Back to the overview'));
  } catch (e) {
    if (e instanceof SignedOut) return;
    if (mine === routing)
      show('Problem', h('h1', {}, 'Something went wrong'), problem(e.message),
        h('p', {}, 'Reload the page to try again. If it goes on, the collector may be down: ask IT.'));
  }
}

/* Whether a newer navigation has started since this page began loading. */
function stale(mine) {
  return mine !== routing;
}

async function groups() {
  if (!state.groups) state.groups = (await api('/api/v1/groups')).body.map((g) => g.group);
  return state.groups;
}

/* --- sign-in --- */

async function loginPage(params) {
  document.getElementById('top').hidden = true;
  const next = params.get('next');
  const safeNext = next && /^\/(?!\/)[A-Za-z0-9/?=&%._+-]*$/.test(next) ? next : '/';
  const who = await api('/api/v1/session', { allow401: true, allowError: true });
  if (who.status === 200) {
    state.name = who.body.name;
    state.csrf = who.body.csrf;
    return go(safeNext, true);
  }
  const err = h('p', { class: 'problem', role: 'alert', id: 'login-error', hidden: true });
  const name = h('input', { id: 'name', name: 'name', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'login', 'aria-describedby': 'login-error' },
    h('h1', {}, 'Laptop compliance'),
    h('p', {}, 'Sign in with the administrator account IT gave you.'),
    h('label', { for: 'name' }, 'Name'), name,
    h('label', { for: 'password' }, 'Password'), pass,
    err, button);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    err.hidden = true;
    try {
      const r = await api('/api/v1/session', {
        method: 'POST', json: { name: name.value, password: pass.value },
        allow401: true, allowError: true,
      });
      if (r.status === 200) {
        state.name = r.body.name;
        state.csrf = r.body.csrf;
        pass.value = '';
        return go(safeNext, true);
      }
      err.textContent = (r.body && r.body.error) || 'The collector answered ' + r.status + '.';
    } catch (e) {
      err.textContent = 'Cannot reach the collector: ' + e.message;
    }
    err.hidden = false;
    button.disabled = false;
    pass.select();
  });
  show('Sign in', form);
  name.focus();
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('signout').addEventListener('click', async () => {
    try {
      await api('/api/v1/session', { method: 'DELETE', allowError: true });
    } catch (e) { /* signed out already */ }
    state.name = state.csrf = null;
    state.groups = null;
    go('/login', true);
  });
  route();
});

/* --- charts --- */

/* A ring showing a share, with the figure in the middle. */
function donut(share, label) {
  const r = 40, c = 2 * Math.PI * r;
  return s('svg', { viewBox: '0 0 100 100', class: 'donut', role: 'img', 'aria-label': label },
    s('circle', { cx: 50, cy: 50, r, class: 'ring' }),
    s('circle', {
      cx: 50, cy: 50, r, class: 'arc', 'stroke-dasharray': `${(c * share) / 100} ${c}`,
      transform: 'rotate(-90 50 50)',
    }),
    s('text', { x: 50, y: 56, 'text-anchor': 'middle', class: 'figure' }, Math.round(share) + '%'));
}

/* One bar split by status, each part a link to the laptops it counts. */
function stackedBar(counts, hrefFor, label) {
  const total = STATUSES.reduce((n, st) => n + (counts[st] || 0), 0);
  const bar = h('div', { class: 'stack', role: 'img', 'aria-label': label });
  for (const st of ['pass', 'warn', 'fail', 'unknown']) {
    const n = counts[st] || 0;
    if (!n) continue;
    const part = h('a', { class: 'part ' + st, href: hrefFor(st), title: `${STATUS_WORDS[st]}: ${n}` });
    part.style.width = (100 * n) / total + '%';
    bar.append(part);
  }
  return bar;
}

/* The compliance share day by day, as a line over the last days. */
function trendChart(days, valueOf, label) {
  const W = 640, H = 200, L = 40, R = 12, T = 12, B = 28;
  const pts = days.map((d, i) => ({ d, v: valueOf(d) })).filter((p) => p.v !== null);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'trend', role: 'img', 'aria-label': label });
  const x = (i) => L + (days.length > 1 ? ((W - L - R) * i) / (days.length - 1) : (W - L - R) / 2);
  const y = (v) => T + ((H - T - B) * (100 - v)) / 100;
  for (const v of [0, 25, 50, 75, 100]) {
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, v + '%'));
  }
  const step = Math.max(1, Math.ceil(days.length / 6));
  days.forEach((d, i) => {
    if (i % step === 0 || i === days.length - 1)
      svg.append(s('text', { x: x(i), y: H - 8, 'text-anchor': 'middle', class: 'axis' },
        new Date(d.day + 'T12:00:00Z').toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })));
  });
  const idx = new Map(days.map((d, i) => [d, i]));
  if (pts.length) {
    svg.append(s('polyline', {
      class: 'line',
      points: pts.map((p) => `${x(idx.get(p.d))},${y(p.v)}`).join(' '),
    }));
    for (const p of pts)
      svg.append(s('circle', { cx: x(idx.get(p.d)), cy: y(p.v), r: 3, class: 'dot' },
        s('title', {}, `${p.d.day}: ${p.v}%`)));
  }
  return svg;
}

/* The last n calendar days, each with its figures or null. */
function calendar(history, n) {
  const byDay = new Map(history.days.map((d) => [d.day, d]));
  const out = [];
  for (let i = n - 1; i >= 0; i--) {
    const day = new Date(Date.now() - i * 86400000).toISOString().slice(0, 10);
    out.push(byDay.get(day) || { day, missing: true });
  }
  return out;
}

function shareOf(check) {
  return (d) => {
    if (d.missing) return null;
    if (!check) return d.devices ? pct(d.compliant, d.devices) : null;
    const c = d.by_check[check];
    if (!c) return null;
    const all = Object.values(c).reduce((a, b) => a + b, 0);
    return all ? pct(c.pass || 0, all) : null;
  };
}

function trendBlock(history, checks, title) {
  const days = calendar(history, 30);
  const select = h('select', { id: 'trend-check', 'aria-label': 'Which check' },
    h('option', { value: '' }, 'Every check (laptops compliant)'),
    checks.map((c) => h('option', { value: c }, checkName(c) + ' (laptops passing)')));
  const holder = h('div', {});
  const table = h('table', { class: 'data small' });
  const draw = () => {
    const c = select.value;
    const f = shareOf(c);
    holder.replaceChildren(trendChart(days, f, `Share of laptops ${c ? 'passing ' + checkName(c) : 'compliant'} over the last 30 days`));
    table.replaceChildren(h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Share'))),
      h('tbody', {}, days.filter((d) => f(d) !== null).map((d) => h('tr', {}, h('td', {}, d.day), h('td', {}, f(d) + '%')))));
  };
  select.addEventListener('change', draw);
  draw();
  const known = days.filter((d) => !d.missing).length;
  return h('section', { class: 'card wide' },
    h('div', { class: 'card-head' }, h('h2', {}, title), select),
    holder,
    known < 2 ? h('p', { class: 'note' }, 'The chart fills in day by day: collectord keeps a picture of the estate every hour.') : null,
    h('details', {}, h('summary', {}, 'The figures as a table'), table));
}

/* --- overview --- */

async function overviewPage(mine) {
  const [sum, hist, finds] = await Promise.all([
    api('/api/v1/summary'), api('/api/v1/history?days=30'), api('/api/v1/findings?limit=10'),
  ]);
  if (stale(mine)) return;
  const S = sum.body;
  const share = pct(S.compliant, S.devices);
  const checks = Object.keys(S.by_check).sort();
  const tiles = h('section', { class: 'tiles', 'aria-label': 'The estate' },
    h('div', { class: 'tile' }, h('div', { class: 'label' }, 'Laptops'),
      h('div', { class: 'big', id: 'n-devices' }, S.devices), link('/laptops', 'See them all')),
    h('div', { class: 'tile' }, donut(share, `${share}% compliant`),
      h('div', {}, h('div', { class: 'label' }, 'Compliant'),
        h('div', { class: 'big pass-text', id: 'n-compliant' }, S.compliant),
        link('/laptops?status=pass', 'Which ones'))),
    h('div', { class: 'tile' }, h('div', { class: 'label' }, 'Failing a check'),
      h('div', { class: 'big fail-text', id: 'n-failing' }, S.failing), link('/laptops?status=fail', 'Which ones')),
    h('div', { class: 'tile' }, h('div', { class: 'label' }, 'Not heard from (stale)'),
      h('div', { class: 'big', id: 'n-stale' }, S.stale), link('/laptops?stale=1', 'Which ones')));

  const byCheck = h('section', { class: 'card' }, h('h2', {}, 'Each check'),
    checks.length ? h('table', { class: 'data', id: 'by-check' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Check'),
        ['pass', 'warn', 'fail', 'unknown'].map((st) => h('th', { scope: 'col', class: 'num' }, STATUS_WORDS[st])),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Picture')))),
      h('tbody', {}, checks.map((c) => {
        const counts = S.by_check[c];
        const href = (st) => '/laptops' + query({ check: c, check_status: st });
        return h('tr', { 'data-check': c }, h('th', { scope: 'row' }, checkName(c)),
          ['pass', 'warn', 'fail', 'unknown'].map((st) => h('td', { class: 'num', 'data-status': st },
            counts[st] ? link(href(st), counts[st]) : '0')),
          h('td', { class: 'bar-cell' }, stackedBar(counts, href, checkName(c))));
      }))) : h('p', {}, 'No laptop has reported yet.'));

  const groupNames = Object.keys(S.by_group).sort();
  const bySchool = h('section', { class: 'card' }, h('h2', {}, 'Each school'),
    groupNames.length ? h('table', { class: 'data', id: 'by-group' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'School'), h('th', { scope: 'col', class: 'num' }, 'Laptops'),
        h('th', { scope: 'col', class: 'num' }, 'Compliant'), h('th', { scope: 'col' }, 'Share'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Report')))),
      h('tbody', {}, groupNames.map((g) => {
        const G = S.by_group[g];
        const p = pct(G.compliant, G.devices);
        const fill = h('span', { class: 'fill' });
        fill.style.width = p + '%';
        return h('tr', { 'data-group': g }, h('th', { scope: 'row' }, link('/laptops' + query({ group: g }), g)),
          h('td', { class: 'num' }, G.devices), h('td', { class: 'num' }, G.compliant),
          h('td', {}, h('span', { class: 'meter', role: 'img', 'aria-label': p + '% compliant' }, fill), ' ', p + '%'),
          h('td', {}, link('/report' + query({ group: g }), 'Report')));
      }))) : h('p', {}, 'No school has laptops yet.'));

  const findings = h('section', { class: 'card wide' }, h('h2', {}, 'Most common problems'),
    finds.body.length ? h('ol', { class: 'findings', id: 'findings' }, finds.body.map((f) => h('li', {},
      h('div', { class: 'finding-head' }, badge(f.status), ' ', h('strong', {}, checkName(f.check)), ' · ',
        link('/laptops' + query({ check: f.check, check_status: f.status }),
          `${f.devices} laptop${f.devices === 1 ? '' : 's'}`)),
      h('p', { class: 'summary' }, text(f.summary)),
      f.clause ? h('blockquote', {}, h('span', { class: 'label' }, 'Code of conduct: '), f.clause) : null)))
      : h('p', {}, 'No laptop fails or warns on any check.'));

  show('Overview', h('h1', {}, 'The estate at a glance'),
    h('p', { class: 'lead' }, `${share}% of ${S.devices} laptops are compliant with the code of conduct.`),
    tiles, h('div', { class: 'grid' }, byCheck, bySchool, trendBlock(hist.body, checks, 'The last 30 days'), findings));
}

/* --- laptops --- */

function filterForm(fields, params, action) {
  const form = h('form', { class: 'filters', role: 'search' }, fields, h('button', { type: 'submit' }, 'Show'),
    h('a', { href: action, class: 'button-link' }, 'Clear'));
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox') el.checked = params.get(el.name) === '1';
    else if (params.get(el.name) !== null) el.value = params.get(el.name);
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.type === 'checkbox') p[el.name] = el.checked ? '1' : '';
      else p[el.name] = el.value.trim();
    }
    go(action + query(p));
  });
  return form;
}

function field(label, control) {
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
}

function options(list, none) {
  return [h('option', { value: '' }, none), list.map(([v, t]) => h('option', { value: v }, t))];
}

async function laptopsPage(params, mine) {
  const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  const sort = params.get('sort') || '';
  const filters = {};
  for (const k of ['status', 'check', 'check_status', 'group', 'q', 'stale']) filters[k] = params.get(k) || '';
  const [r, gs] = await Promise.all([
    api('/api/v1/devices' + query({ ...filters, page, per_page: PER_PAGE, sort })), groups(),
  ]);
  if (stale(mine)) return;
  const D = r.body;
  const statusOpts = STATUSES.map((st) => [st, STATUS_WORDS[st]]);
  const form = filterForm([
    field('Search', h('input', { id: 'f-q', name: 'q', type: 'search', placeholder: 'Laptop name, serial or user' })),
    field('Status', h('select', { id: 'f-status', name: 'status' }, options(statusOpts, 'Any'))),
    field('Check', h('select', { id: 'f-check', name: 'check' }, options(Object.entries(CHECK_WORDS), 'Any'))),
    field('Check result', h('select', { id: 'f-check-status', name: 'check_status' }, options(statusOpts, 'Fails'))),
    field('School', h('select', { id: 'f-group', name: 'group' }, options(gs.map((g) => [g, g]), 'Every school'))),
    h('div', { class: 'field check' }, h('input', { id: 'f-stale', name: 'stale', type: 'checkbox', value: '1' }),
      h('label', { for: 'f-stale' }, 'Only stale laptops')),
  ], params, '/laptops');

  const sortBy = (key, label) => {
    const cur = sort === key ? 'ascending' : sort === '-' + key ? 'descending' : null;
    const next = cur === 'ascending' ? '-' + key : key;
    return h('th', { scope: 'col', 'aria-sort': cur || 'none' },
      link('/laptops' + query({ ...filters, sort: next }), label,
        h('span', { 'aria-hidden': 'true', class: 'arrow' }, cur === 'ascending' ? ' ▲' : cur === 'descending' ? ' ▼' : '')));
  };
  const first = D.total ? (D.page - 1) * D.per_page + 1 : 0;
  const last = Math.min(D.total, D.page * D.per_page);
  const pages = Math.max(1, Math.ceil(D.total / D.per_page));
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('span', { id: 'showing' }, `Laptops ${first} to ${last} of ${D.total}`),
    D.page > 1 ? link('/laptops' + query({ ...filters, sort, page: D.page - 1 }), '← Previous') : null,
    h('span', {}, `Page ${D.page} of ${pages}`),
    D.page < pages ? link('/laptops' + query({ ...filters, sort, page: D.page + 1 }), 'Next →') : null);

  const table = h('table', { class: 'data', id: 'laptops' },
    h('caption', { class: 'visually-hidden' }, 'Laptops'),
    h('thead', {}, h('tr', {}, sortBy('hostname', 'Laptop'), sortBy('group', 'School'), h('th', { scope: 'col' }, 'Staff'),
      h('th', { scope: 'col' }, 'Serial'), sortBy('status', 'Status'), h('th', { scope: 'col' }, 'Failing'),
      sortBy('since', 'Since'), sortBy('last_seen', 'Last report'))),
    h('tbody', {}, D.devices.map((d) => h('tr', { class: d.stale ? 'is-stale' : null },
      h('td', {}, link('/laptops/' + d.id, text(d.hostname, '(no name)'))),
      h('td', {}, text(d.group)),
      h('td', {}, text(d.users)),
      h('td', { class: 'mono' }, text(d.serial)),
      h('td', {}, badge(d.status)),
      h('td', {}, d.failing.map((c) => h('span', { class: 'chip' }, checkName(c)))),
      h('td', {}, d.status_since ? ago(d.status_since) : '—'),
      h('td', {}, ago(d.last_seen), d.stale ? h('span', { class: 'chip stale' }, 'stale') : null)))));

  show('Laptops', h('div', { class: 'page-head' }, h('h1', {}, 'Laptops'),
    h('a', { href: '/api/v1/devices.csv' + query({ ...filters, sort }), download: 'laptops.csv', class: 'button-link', id: 'csv' }, 'Download CSV')),
  form, D.devices.length ? h('div', { class: 'scroll' }, table) : h('p', { id: 'none' }, 'No laptop matches.'), pager);
}

/* --- one laptop --- */

function scalar(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/* Evidence for IT: objects as lists of names and values, lists of
 * records as small tables, all as text. */
function evidence(v, depth) {
  if (v === null || typeof v !== 'object') return scalar(v);
  if (depth > 6) return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (!v.length) return 'none';
    if (v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
      const keys = [...new Set(v.flatMap((x) => Object.keys(x)))];
      return h('table', { class: 'data small' },
        h('thead', {}, h('tr', {}, keys.map((k) => h('th', { scope: 'col' }, k.replace(/_/g, ' '))))),
        h('tbody', {}, v.map((x) => h('tr', {}, keys.map((k) => h('td', {}, evidence(x[k], depth + 1)))))));
    }
    return h('ul', { class: 'plain' }, v.map((x) => h('li', {}, evidence(x, depth + 1))));
  }
  const keys = Object.keys(v);
  if (!keys.length) return 'none';
  return h('dl', { class: 'evidence' }, keys.map((k) => [h('dt', {}, k.replace(/_/g, ' ')), h('dd', {}, evidence(v[k], depth + 1))]));
}

function eventWhat(e) {
  return EVENT_WORDS[e.type] || e.type.replace(/_/g, ' ');
}

/* What happened to a USB device: a stick formatted, unlocked or locked
 * while plugged in is judged again (action "change"). */
const USB_ACTION_WORDS = { add: 'Plugged in', remove: 'Removed', change: 'Changed while plugged in' };

/* One line about an event, from its fields, as text. */
function eventDetail(e) {
  if (e.type === 'usb_device' && e.device) {
    const d = e.device;
    const name = [d.manufacturer, d.product].filter(Boolean).join(' ') || 'USB device';
    return `${USB_ACTION_WORDS[e.action] || 'Plugged in'}: ${name} (${d.vendor_id}:${d.product_id}${d.serial ? ', serial ' + d.serial : ''})` +
      (e.taken ? ` · ${e.taken === 'block' ? 'blocked' : e.taken === 'warn' ? 'warned' : e.taken}` : '');
  }
  if (e.type === 'camera_session')
    return `${e.action === 'end' ? 'Stopped' : 'Started'}: ${text(e.application)} (${text(e.exe)}) by ${text(e.user)}` +
      (e.approved ? ' · approved application' : ' · not an approved application') +
      (e.duration_seconds !== undefined ? ` · ${Math.round(e.duration_seconds / 60)} min` : '');
  if (e.type === 'unattended_session') return `${text(e.user)} left the session unlocked for ${e.idle_minutes} minutes`;
  if (e.type === 'unattended_session_end') return `${text(e.user)} came back or locked the screen`;
  if (e.type === 'status_change') return `${checkName(e.check)}: ${STATUS_WORDS[e.old] || e.old} → ${STATUS_WORDS[e.new] || e.new}`;
  if (e.type === 'policy_error') return text(e.error);
  if (e.type === 'report_rejected') return `report ${e.seq}: ${text(e.error)}`;
  const rest = { ...e };
  for (const k of ['at', 'type', 'check']) delete rest[k];
  return Object.keys(rest).length ? JSON.stringify(rest) : '';
}

/* The reports' statuses, kept only where they changed (oldest first). */
function changes(history) {
  const out = [];
  for (const r of [...history].reverse())
    if (!out.length || out[out.length - 1].status !== r.status) out.push(r);
  return out.reverse();
}

async function laptopPage(id, mine) {
  const r = await api('/api/v1/devices/' + encodeURIComponent(id), { allowError: true });
  if (stale(mine)) return;
  if (r.status === 404) return show('Not found', h('h1', {}, 'No such laptop'), link('/laptops', 'Back to the laptops'));
  if (r.status !== 200) throw new Error((r.body && r.body.error) || 'The collector answered ' + r.status);
  const d = r.body;
  const ident = [
    ['School', d.group], ['Staff', d.users], ['Serial', d.serial], ['Model', [d.vendor, d.model].filter(Boolean).join(' ')],
    ['Operating system', d.os], ['Agent', d.agent_version], ['Machine id', d.machine_id],
    ['Enrolled', when(d.enrolled_at)], ['Last report', `${when(d.last_seen)} (${ago(d.last_seen)})`],
    ['Status since', d.status_since ? when(d.status_since) : null],
  ];
  const checks = (Array.isArray(d.checks) ? d.checks : []).slice().sort(
    (a, b) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status));
  const events = d.events || [];
  show(text(d.hostname, 'Laptop'),
    h('div', { class: 'page-head' }, h('h1', { id: 'hostname' }, text(d.hostname, '(no name)')), badge(d.status),
      d.stale ? h('span', { class: 'chip stale' }, 'stale: not heard from for over a day') : null),
    h('dl', { class: 'identity', id: 'identity' }, ident.map(([k, v]) => [h('dt', {}, k), h('dd', { class: k === 'Machine id' || k === 'Serial' ? 'mono' : null }, text(v))])),
    h('h2', {}, 'Checks'),
    checks.length ? h('div', { class: 'checks' }, checks.map((c) => h('section', { class: 'card check-card ' + c.status, 'data-check': c.id },
      h('div', { class: 'card-head' }, h('h3', {}, checkName(c.id)), badge(c.status), h('span', { class: 'severity' }, `severity ${c.severity}`)),
      h('p', { class: 'summary' }, text(c.summary)),
      c.remedy ? h('p', { class: 'remedy' }, h('strong', {}, 'To put it right: '), c.remedy) : null,
      c.clause ? h('blockquote', {}, h('span', { class: 'label' }, 'Code of conduct: '), c.clause) : null,
      h('details', { open: c.status !== 'pass' }, h('summary', {}, 'Evidence for IT'), evidence(c.evidence, 0)))))
      : h('p', {}, 'This laptop has not reported any check yet.'),
    h('div', { class: 'grid' },
      h('section', { class: 'card' }, h('h2', {}, 'Status history'),
        d.history && d.history.length ? h('table', { class: 'data small', id: 'history' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'From'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Report'))),
          h('tbody', {}, changes(d.history).map((x) => h('tr', {}, h('td', {}, when(x.received_at)), h('td', {}, badge(x.status)), h('td', {}, '#' + x.seq)))))
          : h('p', {}, 'No reports yet.')),
      h('section', { class: 'card wide' }, h('h2', {}, 'Events'),
        events.length ? h('div', { class: 'scroll' }, h('table', { class: 'data small', id: 'events' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'What'), h('th', { scope: 'col' }, 'Details'))),
          h('tbody', {}, events.map((e) => h('tr', {}, h('td', {}, when(e.at)), h('td', {}, eventWhat(e)), h('td', { class: 'detail' }, eventDetail(e)))))))
          : h('p', {}, 'No USB, camera or session events.'))));
}

/* --- events across the estate --- */

async function eventsPage(params, mine) {
  const filters = { type: params.get('type') || '', group: params.get('group') || '', since: params.get('since') || '' };
  const since = /^\d{4}-\d{2}-\d{2}$/.test(filters.since) ? filters.since + 'T00:00:00Z' : '';
  const [r, gs] = await Promise.all([
    api('/api/v1/events' + query({ type: filters.type, group: filters.group, since, limit: 500 })), groups(),
  ]);
  if (stale(mine)) return;
  const types = [['usb_device', 'USB devices'], ['camera_session', 'Camera sessions'],
    ['unattended_session', 'Sessions left unlocked'], ['status_change', 'Status changes'],
    ['policy_error', 'Policies refused']];
  const form = filterForm([
    field('What', h('select', { id: 'e-type', name: 'type' }, options(types, 'Every event'))),
    field('School', h('select', { id: 'e-group', name: 'group' }, options(gs.map((g) => [g, g]), 'Every school'))),
    field('Since', h('input', { id: 'e-since', name: 'since', type: 'date' })),
  ], params, '/events');
  const list = r.body;
  show('Events', h('div', { class: 'page-head' }, h('h1', {}, 'Events'),
    h('a', { href: '/api/v1/events.csv' + query({ type: filters.type, group: filters.group, since }), download: 'events.csv', class: 'button-link', id: 'csv' }, 'Download CSV')),
  form,
  list.length ? h('div', { class: 'scroll' }, h('table', { class: 'data', id: 'events' },
    h('thead', {}, h('tr', {}, ['When', 'Laptop', 'School', 'What', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, list.map((x) => h('tr', {}, h('td', {}, when(x.event.at)),
      h('td', {}, link('/laptops/' + x.device_id, text(x.hostname, '(no name)'))), h('td', {}, text(x.group)),
      h('td', {}, eventWhat(x.event)), h('td', { class: 'detail' }, eventDetail(x.event)))))))
    : h('p', { id: 'none' }, 'No event matches.'),
  list.length === 500 ? h('p', { class: 'note' }, 'The newest 500 are shown; narrow the search, or download the CSV for all of them.') : null);
}

/* --- policy --- */

async function policyPage(params, mine) {
  const gs = await groups();
  if (stale(mine)) return;
  const group = params.get('group') || gs[0] || '';
  const pick = h('select', { id: 'p-group', name: 'group' }, gs.map((g) => h('option', { value: g }, g)));
  pick.value = group;
  pick.addEventListener('change', () => go('/policy' + query({ group: pick.value })));
  if (!group) return show('Policy', h('h1', {}, 'Policy'), h('p', {}, 'There is no school yet: enrol a laptop first.'));
  const cur = await api('/api/v1/policy' + query({ group }), { allowError: true, asText: true });
  if (stale(mine)) return;
  const have = cur.status === 200;
  const current = have ? cur.body : '';
  const area = h('textarea', { id: 'p-text', rows: 24, spellcheck: 'false', 'aria-describedby': 'p-help' });
  area.value = current;
  const out = h('div', { id: 'p-result', role: 'status' });
  const save = h('button', { type: 'submit' }, 'Check and save');
  const form = h('form', { class: 'policy' },
    h('label', { for: 'p-text' }, `The policy for ${group}`),
    h('p', { id: 'p-help', class: 'note' }, 'The same rules as policy.ini on each laptop. The collector checks it before saving; laptops pick it up at their next contact.'),
    area, save, out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    out.replaceChildren();
    try {
      const r = await api('/api/v1/policy' + query({ group }), { method: 'PUT', text: area.value, allowError: true });
      if (r.status === 200)
        out.replaceChildren(h('p', { class: 'ok' }, `Saved: ${text(r.body.name)} version ${text(r.body.version)}. Laptops in ${group} will use it from their next contact.`));
      else
        out.replaceChildren(h('div', { class: 'problem', role: 'alert' }, h('p', {}, (r.body && r.body.error) || 'Not saved.'),
          r.body && r.body.errors ? h('ul', { id: 'p-errors' }, r.body.errors.map((e) => h('li', {}, e))) : null,
          h('p', {}, 'Nothing was changed: the laptops keep the policy they have.')));
    } catch (e) {
      if (!(e instanceof SignedOut)) out.replaceChildren(problem(e.message));
    }
    save.disabled = false;
  });
  show('Policy', h('div', { class: 'page-head' }, h('h1', {}, 'Policy'), field('School', pick)),
    have ? null : h('p', { class: 'note' }, `No policy is set for ${group} on the collector: its laptops run the policy.ini they were installed with.`),
    form);
}

/* --- the governors' report --- */

async function reportPage(params, mine) {
  const gs = await groups();
  if (stale(mine)) return;
  const group = params.get('group') || '';
  const pick = h('select', { id: 'r-group' }, h('option', { value: '' }, 'The whole trust'), gs.map((g) => h('option', { value: g }, g)));
  pick.value = group;
  pick.addEventListener('change', () => go('/report' + query({ group: pick.value })));
  const [hist, finds, failing] = await Promise.all([
    api('/api/v1/history' + query({ days: 30, group })),
    api('/api/v1/findings' + query({ group, limit: 10 })),
    api('/api/v1/devices' + query({ group, status: 'fail', per_page: 500, sort: 'since' })),
  ]);
  if (stale(mine)) return;
  const days = hist.body.days;
  const today = days[days.length - 1];
  const share = pct(today.compliant, today.devices);
  const checks = Object.keys(today.by_check).sort();
  const where = group || 'the whole trust';
  const F = failing.body;
  show('Governors\' report',
    h('div', { class: 'no-print page-head' }, field('School', pick), h('button', { type: 'button', onclick: () => window.print() }, 'Print or save as PDF')),
    h('article', { class: 'report', id: 'report' },
      h('h1', {}, `Laptop compliance: ${where}`),
      h('p', { class: 'lead' }, `On ${new Date().toLocaleDateString('en-GB', { dateStyle: 'long' })}, ${today.compliant} of ${today.devices} staff laptops (${share}%) met every check of the staff code of conduct; ${today.failing} failed at least one; ${Math.max(0, today.devices - today.compliant - today.failing)} had a warning, a check that could not be read, or no report yet; ${today.stale} had not reported for over a day.`),
      h('h2', {}, 'Each check'),
      h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Check'), ['pass', 'warn', 'fail', 'unknown'].map((st) => h('th', { scope: 'col', class: 'num' }, STATUS_WORDS[st])))),
        h('tbody', {}, checks.map((c) => h('tr', {}, h('th', { scope: 'row' }, checkName(c)),
          ['pass', 'warn', 'fail', 'unknown'].map((st) => h('td', { class: 'num' }, today.by_check[c][st] || 0)))))),
      h('h2', {}, 'The last 30 days'),
      trendChart(calendar(hist.body, 30), shareOf(''), 'Share of laptops compliant over the last 30 days'),
      h('h2', {}, 'What falls short, and the clause it breaches'),
      finds.body.length ? h('ol', { class: 'findings' }, finds.body.map((f) => h('li', {},
        h('strong', {}, `${checkName(f.check)} (${f.devices} laptop${f.devices === 1 ? '' : 's'}): `), text(f.summary),
        f.clause ? h('blockquote', {}, f.clause) : null))) : h('p', {}, 'Nothing: every laptop passes every check.'),
      h('h2', {}, `Laptops failing a check (${F.total})`),
      F.devices.length ? h('table', { class: 'data small' },
        h('thead', {}, h('tr', {}, ['Laptop', 'School', 'Failing', 'Since'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, F.devices.map((d) => h('tr', {}, h('td', {}, text(d.hostname)), h('td', {}, text(d.group)),
          h('td', {}, d.failing.map(checkName).join(', ')), h('td', {}, d.status_since ? when(d.status_since) : '—')))))
        : h('p', {}, 'None.'),
      F.total > F.devices.length ? h('p', { class: 'note' }, `The first ${F.devices.length} are listed; the CSV export has all of them.`) : null,
      h('p', { class: 'note' }, 'Produced by collectord from the reports of the endpointd agent on each laptop.')));
}
