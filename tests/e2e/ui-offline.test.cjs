'use strict';
// Offline once loaded: every request the page makes goes to the server it came from (no
// CDN fonts, scripts or styles), and after load none at all — then, with the network cut,
// switching scenario, toggling a policy, comparing and playing to the verdict all still
// work, because the scenarios and the model are in the .wasm.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, baseUrl, assertNoErrors } = require('./helpers.cjs');
const { APP_TIMEOUT, openApp, waitOutcome, key } = require('./ui-lib.cjs');

describe('offline once loaded', { timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  it('asks only its own server, and nothing after load; works with the network cut', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const errors = [];
    page.on('console', (msg) => msg.type() === 'error' && errors.push(`console.error: ${msg.text()}`));
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    const requests = [];
    page.on('request', (req) => requests.push(req.url()));
    try {
      await page.goto(`${baseUrl()}/?s=watermarks-101`, { waitUntil: 'load' });
      await page.waitForSelector('#sim-time[data-tick]', { timeout: APP_TIMEOUT });
      const origin = new URL(baseUrl()).origin;
      const foreign = requests.filter((u) => new URL(u).origin !== origin && !u.startsWith('data:') && !u.startsWith('blob:'));
      assert.deepEqual(foreign, [], 'every request goes to the page\'s own server');
      assert.ok(requests.some((u) => u.endsWith('.wasm')), `the model was fetched: ${requests}`);
      const loaded = requests.length;

      await context.setOffline(true);
      await page.selectOption('#scenario-select', 'dm-crypt-swap');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('s') === 'dm-crypt-swap', null, { timeout: APP_TIMEOUT });
      await page.selectOption('#preset-select', 'linux-4.7+neilbrown');
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'completed');
      await key(page, 'c');
      await page.waitForSelector('canvas#timeline-1', { timeout: APP_TIMEOUT });
      await waitOutcome(page, '.pane:nth-of-type(2) .outcome');
      assert.deepEqual(requests.slice(loaded), [], 'no request after load');
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });
});
