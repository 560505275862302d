// Times the dashboard's pages in headless Chromium, from the navigation
// to the page drawn with its data (median and max of 10 loads each).
// Usage: node bench/dashboard.mjs URL ADMIN PASSWORD
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
for (const [what, path, sel] of pages) {
  const t = [];
  for (let i = 0; i < 10; i++) {
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(URL_ + path);
    await page.waitForSelector(sel);
    t.push(Date.now() - t0);
  }
  t.sort((a, b) => a - b);
  console.log(`dashboard at 100,000 laptops (SQLite), ${what}: median ${t[5]} ms, max ${t[9]} ms`);
}
await browser.close();
