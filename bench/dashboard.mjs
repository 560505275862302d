// SPDX-License-Identifier: Apache-2.0
// Times the dashboard's pages in headless Chromium, from the navigation
// to the page drawn with its data (median and max of LOADS loads each,
// default 10). Usage: node bench/dashboard.mjs URL ADMIN PASSWORD
// Prints result lines for bench/run.sh (ROW, what, figure, goal, met): the
// laptops page on its own, the other pages together.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const [URL_, ADMIN, PASSWORD] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
await page.goto(URL_ + '/login');
await page.fill('#name', ADMIN);
await page.fill('#password', PASSWORD);
await page.click('form.login button');
await page.waitForSelector('#n-devices');

const LOADS = Number(process.env.LOADS || 10);
const ESTATE = 'headless Chromium, 100,000 laptops in 40 schools with 30 days ' +
  'of history (3,000,000 report rows, 300,000 events), SQLite; from ' +
  `navigation to the page drawn with its data, ${LOADS} loads each (bench/dashboard.sh)`;
const row = (what, figure, goal, met) => console.log(['ROW', what, figure, goal, met].join('\t'));
const pages = [
  ['overview (summary, 30-day chart, top findings)', '/', '#findings li, #n-devices'],
  ['laptops, first page of 50', '/laptops', '#laptops tbody tr'],
  ['laptops, failing encryption, page 100', '/laptops?check=encryption&check_status=fail&page=100', '#laptops tbody tr'],
  ['laptops, sorted by last report, descending', '/laptops?sort=-last_seen', '#laptops tbody tr'],
  ['laptops, search "staff4242"', '/laptops?q=staff4242', '#laptops tbody tr'],
  ['one laptop (200 history rows, its events)', '/laptops/4242', '#identity'],
  ['events, USB, newest 500', '/events?type=usb_device', '#events tbody tr'],
  ['governors\' report, one school', '/report?group=School%207', '#report'],
];
const others = [];
let worst = 0;
for (const [what, path, sel] of pages) {
  const t = [];
  for (let i = 0; i < LOADS; i++) {
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(URL_ + path);
    await page.waitForSelector(sel);
    t.push(Date.now() - t0);
  }
  t.sort((a, b) => a - b);
  const median = t[Math.floor(LOADS / 2)];
  console.error(`${what}: median ${median} ms, max ${t[LOADS - 1]} ms`);
  if (path === '/laptops') {
    row(`the dashboard's laptops page, first page of 50, ${ESTATE}`,
      `median ${median} ms, max ${t[LOADS - 1]} ms`, 'under 1 s (median)',
      median < 1000 ? 'yes' : '**no**');
  } else {
    others.push(`${what}: ${median} / ${t[LOADS - 1]}`);
    worst = Math.max(worst, median);
  }
}
row(`the dashboard's other pages, ${ESTATE}`,
  `median / max in ms: ${others.join('; ')}`, 'each under 1 s (median)',
  worst < 1000 ? 'yes' : '**no**');
await browser.close();
