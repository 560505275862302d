// SPDX-License-Identifier: Apache-2.0
// Browser test of collectord's dashboard: Playwright (playwright-core)
// driving Debian's Chromium, headless, against a collectord on loopback
// seeded by tests/system/dashboard_seed.py.
//
// Usage: node dashboard.mjs URL ADMIN PASSWORD SEED.json ARTIFACTS_DIR
// Screenshots of every page (and the governors' report as PDF) go to
// ARTIFACTS_DIR. Exit status 0 when every check held.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [URL, ADMIN, PASSWORD, SEED, ART] = process.argv.slice(2);
const seed = JSON.parse(fs.readFileSync(SEED, 'utf8'));
fs.mkdirSync(ART, { recursive: true });
const failed = [];

function check(cond, what) {
  console.log((cond ? 'ok: ' : 'FAIL: ') + what);
  if (!cond) failed.push(what);
}

const basic = 'Basic ' + Buffer.from(`${ADMIN}:${PASSWORD}`).toString('base64');
async function apiGet(p) {
  const r = await fetch(URL + p, { headers: { Authorization: basic } });
  return r.json();
}

// --- without signing in: every page sends to sign-in, every API is 401 ---
const pages = ['/', '/laptops', `/laptops/${seed.hostile_id}`, '/events', '/policy', '/report'];
for (const p of pages) {
  const r = await fetch(URL + p, { redirect: 'manual' });
  const to = p === '/' ? '/login' : '/login?next=' + p;
  check(r.status === 303 && r.headers.get('location') === to, `${p} without a session: ${r.status} to ${r.headers.get('location')}`);
}
const apis = ['/api/v1/summary', '/api/v1/devices', `/api/v1/devices/${seed.hostile_id}`, '/api/v1/devices.csv',
  '/api/v1/events', '/api/v1/events.csv', '/api/v1/history', '/api/v1/findings', '/api/v1/groups',
  '/api/v1/policy?group=Oak%20Primary', '/api/v1/enrol-secrets', '/api/v1/admins', '/api/v1/session'];
for (const p of apis) {
  const r = await fetch(URL + p);
  check(r.status === 401, `GET ${p} without a session: ${r.status}`);
}
{
  const r = await fetch(URL + '/api/v1/policy?group=Oak%20Primary', { method: 'PUT', body: '[policy]\n' });
  check(r.status === 401, `PUT /api/v1/policy without a session: ${r.status}`);
  const r2 = await fetch(URL + '/api/v1/session', { method: 'DELETE' });
  check(r2.status === 401, `DELETE /api/v1/session without a session: ${r2.status}`);
  const forged = await fetch(URL + '/api/v1/summary', { headers: { Cookie: 'collectord_session=' + 'a'.repeat(64) } });
  check(forged.status === 401, `a made-up session cookie: ${forged.status}`);
}

// --- CSRF: a change made with the session cookie needs its token ---
{
  const r = await fetch(URL + '/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: ADMIN, password: PASSWORD }),
  });
  const cookie = r.headers.get('set-cookie');
  check(r.status === 200 && /HttpOnly/.test(cookie) && /SameSite=Strict/.test(cookie) && !/Secure/.test(cookie),
    `sign-in sets an HttpOnly, SameSite=Strict cookie (not Secure over plain loopback HTTP): ${cookie.replace(/=[0-9a-f]{64}/, '=…')}`);
  const { csrf } = await r.json();
  const jar = cookie.split(';')[0];
  const put = (h) => fetch(URL + '/api/v1/policy?group=Oak%20Primary', {
    method: 'PUT', headers: { Cookie: jar, ...h }, body: '[policy]\nname = CSRF\nversion = 1\n',
  });
  check((await put({})).status === 403, 'PUT with the session cookie but no X-CSRF-Token: 403');
  check((await put({ 'X-CSRF-Token': 'f'.repeat(64) })).status === 403, 'PUT with a wrong X-CSRF-Token: 403');
  const none = await fetch(URL + '/api/v1/policy?group=Oak%20Primary', { headers: { Cookie: jar } });
  check(none.status === 404, 'and the policy was not changed (still none)');
  const out = await fetch(URL + '/api/v1/session', { method: 'DELETE', headers: { Cookie: jar, 'X-CSRF-Token': csrf } });
  check(out.status === 200, 'sign-out with the token');
  const after = await fetch(URL + '/api/v1/summary', { headers: { Cookie: jar } });
  check(after.status === 401, `the signed-out cookie no longer works: ${after.status}`);
}

// --- the browser ---
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
const page = await context.newPage();
const dialogs = [];
const consoleErrors = [];
page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));
const shot = (name) => page.screenshot({ path: path.join(ART, name + '.png'), fullPage: true });
const textOf = async (sel) => (await page.locator(sel).first().textContent()).trim();
// A navigation made by the page's script has finished when its heading
// is there and nothing says "Loading".
async function settled() {
  await page.waitForSelector('main h1');
}

try {
  await page.goto(URL + '/laptops');
  check(page.url().endsWith('/login?next=/laptops'), `a page without a session lands on sign-in: ${page.url()}`);
  await page.waitForSelector('form.login');
  await shot('01-sign-in');
  await page.fill('#name', ADMIN);
  await page.fill('#password', 'not the password');
  await page.click('form.login button');
  await page.waitForSelector('#login-error:not([hidden])');
  check(/Wrong name or password/.test(await textOf('#login-error')), 'a wrong password is refused, in words');
  await page.fill('#password', PASSWORD);
  await page.click('form.login button');
  await page.waitForSelector('#laptops');
  check(new globalThis.URL(page.url()).pathname === '/laptops', 'signed in, on the page first asked for');
  await page.click('header nav a[href="/"]');
  await page.waitForSelector('#n-devices');
  const cookies = await context.cookies();
  const sc = cookies.find((c) => c.name === 'collectord_session');
  check(sc && sc.httpOnly && sc.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');

  // The overview's numbers are the API's.
  const sum = await apiGet('/api/v1/summary');
  check(await textOf('#n-devices') === String(sum.devices), `overview: ${sum.devices} laptops`);
  check(await textOf('#n-compliant') === String(sum.compliant), `overview: ${sum.compliant} compliant`);
  check(await textOf('#n-failing') === String(sum.failing), `overview: ${sum.failing} failing`);
  check(await textOf('#n-stale') === String(sum.stale) && sum.stale === 2, `overview: ${sum.stale} stale`);
  let cellsOk = true;
  for (const [c, counts] of Object.entries(sum.by_check))
    for (const st of ['pass', 'warn', 'fail', 'unknown']) {
      const cell = await textOf(`#by-check tr[data-check="${c}"] td[data-status="${st}"]`);
      if (cell !== String(counts[st] || 0)) { cellsOk = false; console.log(`  ${c} ${st}: page ${cell}, API ${counts[st] || 0}`); }
    }
  check(cellsOk, 'overview: every check\'s pass/warn/fail/unknown counts match the API');
  for (const [g, G] of Object.entries(sum.by_group)) {
    const row = page.locator(`#by-group tr[data-group="${g}"] td`);
    check(await row.nth(0).textContent() === String(G.devices) && await row.nth(1).textContent() === String(G.compliant),
      `overview: ${g} has ${G.devices} laptops, ${G.compliant} compliant`);
  }
  const finds = await apiGet('/api/v1/findings?limit=10');
  check(await page.locator('#findings > li').count() === finds.length && finds[0].clause &&
    (await textOf('#findings > li blockquote')).includes(finds[0].clause),
  `overview: the ${finds.length} most common findings, each with its clause`);
  check(await page.locator('svg.trend circle.dot').count() >= 20, 'overview: the 30-day chart has its days');
  await shot('02-overview');

  // Laptops: filter, page, search.
  await page.click('header nav a[href="/laptops"]');
  await page.waitForSelector('#laptops');
  const all = await apiGet('/api/v1/devices?per_page=50');
  check((await textOf('#showing')) === `Laptops 1 to 50 of ${all.total}`, `laptops: ${await textOf('#showing')}`);
  check(await page.locator('#laptops tbody tr').count() === 50, 'laptops: 50 on the first page');
  await page.click('.pager a:has-text("Next")');
  await page.waitForFunction(() => /^Laptops 51 to/.test(document.querySelector('#showing')?.textContent || ''));
  check(await page.locator('#laptops tbody tr').count() === all.total - 50, `laptops: page 2 has the other ${all.total - 50}`);
  await page.goto(URL + '/laptops');
  await page.waitForSelector('#laptops');
  await page.selectOption('#f-status', 'fail');
  await page.selectOption('#f-group', 'Elm High');
  await page.click('.filters button[type=submit]');
  await page.waitForFunction(() => location.search.includes('status=fail'));
  await page.waitForSelector('#laptops, #none');
  const failElm = await apiGet('/api/v1/devices?status=fail&group=Elm%20High');
  check((await textOf('#showing')).endsWith(`of ${failElm.total}`), `laptops: failing in Elm High, ${failElm.total} as the API says`);
  const rowsText = await page.locator('#laptops tbody').textContent();
  check(failElm.devices.every((d) => rowsText.includes(d.hostname)), 'laptops: the same laptops as the API');
  check(await page.locator('#laptops tbody .chip').count() > 0, 'laptops: each row shows its failing checks');
  await shot('03-laptops-filtered');
  // Sorting is done by the server.
  await page.click('#laptops thead a:has-text("Laptop")');
  await page.waitForFunction(() => location.search.includes('sort=hostname'));
  await page.click('#laptops thead a:has-text("Laptop")');
  await page.waitForFunction(() => location.search.includes('sort=-hostname'));
  await page.waitForSelector('#laptops th[aria-sort="descending"]');
  const firstRow = await textOf('#laptops tbody tr td a');
  check(firstRow === failElm.devices.map((d) => d.hostname).sort().reverse()[0], `laptops: sorted by name, descending (${firstRow} first)`);
  // Search by the user of the laptop.
  await page.goto(URL + '/laptops?q=jones');
  await page.waitForSelector('#laptops');
  check(await page.locator('#laptops tbody tr').count() === 1 && (await textOf('#laptops tbody')).includes('mrs.jones'),
    'laptops: found by its user\'s name');

  // The CSV export.
  await page.goto(URL + '/laptops?group=Oak%20Primary');
  await page.waitForSelector('#laptops');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csv = fs.readFileSync(await dl.path(), 'utf8');
  fs.writeFileSync(path.join(ART, 'laptops.csv'), csv);
  const oak = await apiGet('/api/v1/devices?group=Oak%20Primary');
  const lines = csv.trim().split('\r\n');
  check(lines[0].startsWith('"id","machine_id","hostname"') && lines.length === oak.total + 1,
    `CSV export: a header and ${oak.total} laptops (${lines.length - 1})`);

  // The hostile laptop: every string is shown as text.
  await page.goto(URL + `/laptops/${seed.hostile_id}`);
  await page.waitForSelector('#identity');
  await page.waitForSelector('.checks');
  check(await textOf('#hostname') === seed.hostile.hostname, 'a hostname of markup is shown as text');
  const main = await page.locator('main').textContent();
  check(main.includes(seed.hostile.serial), 'a serial with quotes is shown as text');
  check(main.includes(seed.hostile.product), 'a USB product name with </script> is shown as text');
  check(main.includes(seed.hostile.exe), 'an application path of markup is shown as text');
  check(await page.locator('main img, main svg[onload], main script, main b, main i').count() === 0,
    'no element came from device data');
  check(await page.locator('.check-card blockquote').count() === 4, 'each check shows its clause');
  check(await page.locator('#history tbody tr').count() >= 1, 'the status history is there');
  check(await page.locator('#events tbody tr').count() === 2, 'its USB and camera events are there');
  await shot('04-laptop-hostile');
  const normal = seed.devices.find((d) => d.hostname === 'oak-lt-004');
  await page.goto(URL + `/laptops/${normal.id}`);
  await page.waitForSelector('.checks');
  await shot('05-laptop');

  // Events across the estate.
  await page.click('header nav a[href="/events"]');
  await page.waitForSelector('#events');
  await page.selectOption('#e-type', 'usb_device');
  await page.click('.filters button[type=submit]');
  await page.waitForFunction(() => location.search.includes('type=usb_device'));
  await page.waitForSelector('#events');
  const usb = await apiGet('/api/v1/events?type=usb_device&limit=500');
  check(await page.locator('#events tbody tr').count() === usb.length, `events: ${usb.length} USB events, as the API says`);
  check((await page.locator('#events').textContent()).includes(seed.hostile.product), 'events: the hostile USB product as text');
  const changed = usb.filter((x) => x.event.action === 'change').length;
  const shown = (await page.locator('#events').textContent()).split('Changed while plugged in').length - 1;
  check(changed >= 1 && shown === changed, `events: ${shown} of ${changed} sticks changed while plugged in are said so, not "Plugged in"`);
  await shot('06-events');
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const ecsv = fs.readFileSync(await dl2.path(), 'utf8').trim().split('\r\n');
  check(ecsv[0].startsWith('"at","type"') && ecsv.length === usb.length + 1, `events CSV: ${ecsv.length - 1} rows`);

  // Policy: a broken one is refused with line numbers; a good one saved.
  await page.click('header nav a[href="/policy"]');
  await page.waitForSelector('#p-text');
  await page.selectOption('#p-group', 'Elm High');
  await page.waitForFunction(() => location.search.includes('Elm'));
  await page.waitForSelector('#p-text');
  await page.fill('#p-text', '[policy]\nname = Elm\nversion = 2\n\n[printer]\ncolour = yes\n\n[encryption]\nclause = Encrypt.\nmin_keysize = lots\n');
  await page.click('form.policy button');
  await page.waitForSelector('#p-errors li');
  const errs = await page.locator('#p-errors li').allTextContents();
  check(errs.some((e) => /policy\.ini:5:/.test(e)) && errs.some((e) => /policy\.ini:10:/.test(e)),
    `policy: a broken one is refused, with line numbers (${errs.join(' | ')})`);
  const still = await fetch(URL + '/api/v1/policy?group=Elm%20High', { headers: { Authorization: basic } });
  check(still.status === 404, 'policy: nothing was stored');
  await shot('07-policy-error');
  await page.fill('#p-text', '[policy]\nname = Elm High code of conduct\nversion = 2\n\n[encryption]\nclause = All laptops must be encrypted.\n');
  await page.click('form.policy button');
  await page.waitForSelector('#p-result .ok');
  const stored = await fetch(URL + '/api/v1/policy?group=Elm%20High', { headers: { Authorization: basic } });
  check(stored.status === 200 && (await stored.text()).includes('Elm High code of conduct'), 'policy: a good one is stored');
  await shot('08-policy-saved');

  // The governors' report, on screen and on paper.
  await page.goto(URL + '/report?group=Oak%20Primary');
  await page.waitForSelector('#report');
  const oakSum = sum.by_group['Oak Primary'];
  check((await textOf('#report .lead')).includes(`${oakSum.compliant} of ${oakSum.devices}`), 'report: the school\'s figures');
  await shot('09-report');
  await page.emulateMedia({ media: 'print' });
  check(!(await page.locator('header.top').isVisible()) && !(await page.locator('.no-print').isVisible()),
    'report: on paper, no navigation and no buttons');
  await page.pdf({ path: path.join(ART, 'report-oak-primary.pdf'), format: 'A4', printBackground: true });
  await page.emulateMedia({ media: 'screen' });

  // Tablet width.
  await page.setViewportSize({ width: 800, height: 1100 });
  await page.goto(URL + '/');
  await page.waitForSelector('#n-devices');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 800, `overview fits a tablet's width (${wide} px)`);
  await shot('10-overview-tablet');

  // Keyboard: the skip link comes first, the navigation after it.
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.className) === 'skip', 'keyboard: the first Tab reaches "Skip to the content"');

  // Sign out.
  await page.setViewportSize({ width: 1366, height: 900 });
  await page.click('#signout');
  await page.waitForSelector('form.login');
  const left = (await context.cookies()).find((c) => c.name === 'collectord_session');
  check(!left || !left.value, 'signed out: the cookie is gone');
  const r = await fetch(URL + '/api/v1/summary', { headers: { Cookie: `collectord_session=${sc.value}` } });
  check(r.status === 401, 'signed out: the old session is refused by the server');
  await page.goto(URL + '/');
  check(page.url().endsWith('/login'), 'signed out: pages lead to sign-in');

  // Too many wrong passwords: refused for a while, in words.
  for (let i = 0; i < 6; i++) {
    await page.fill('#name', 'governor');
    await page.fill('#password', 'guess' + i);
    await page.click('form.login button');
    await page.waitForSelector('#login-error:not([hidden])');
  }
  check(/Too many failed sign-ins/.test(await textOf('#login-error')), 'sign-in attempts are limited');
  await shot('11-sign-in-limited');

  check(dialogs.length === 0, `no dialog opened (${dialogs.join(', ')})`);
  // The expected refusals (a wrong password, a broken policy, no policy
  // yet) are logged by Chromium as failed loads; anything else is not.
  const unexpected = consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of (400|401|404|429)\b/.test(e));
  check(unexpected.length === 0, `no script error or CSP violation in the console (${unexpected.join(' | ')})`);
} catch (e) {
  check(false, 'the browser test ran to its end: ' + e.stack);
  await shot('99-failure').catch(() => {});
} finally {
  await browser.close();
}
console.log(failed.length ? `${failed.length} failed` : 'all passed');
process.exit(failed.length ? 1 : 0);
