'use strict';
// The app in Firefox (Debian's firefox-esr, driven by puppeteer-core over WebDriver BiDi):
// every built-in scenario loads, goes to its verdict (the ▶| button) and ends on the
// same outcome and the same metrics as in Chromium — one model, one trace, whatever the
// engine — with no console errors. Screenshots: target/screenshots/firefox-<scenario>.png.
// Condition waits only (waitForFunction on the app's own data attributes).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const puppeteer = require('puppeteer-core');
const { launchBrowser, baseUrl, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, waitOutcome, metricsText, key } = require('./ui-lib.cjs');

const FIREFOX = process.env.PL_FIREFOX || '/usr/bin/firefox-esr';
const APP_TIMEOUT = 60_000;
const RUN_TIMEOUT = 120_000;
const FINAL = ['completed', 'incomplete', 'stalled', 'deadlocked', 'oom_kill', 'stack_overflow'];

/** Open `path` in a fresh Firefox page at 1280×720, collecting console and page errors. */
async function openFirefox(browser, path) {
  const page = await browser.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.stack || err.message || err}`));
  await page.setViewport({ width: 1280, height: 720 });
  await page.goto(baseUrl() + path, { waitUntil: 'load' });
  await page.waitForSelector('#sim-time[data-tick]', { timeout: APP_TIMEOUT });
  return { page, errors };
}

/** Go to the end (▶|) and wait for the run's verdict. */
async function playToVerdict(page) {
  await page.click('#btn-end');
  await page.waitForFunction(
    (outcomes) => {
      const el = document.querySelector('#outcome');
      return el && outcomes.includes(el.getAttribute('data-outcome'));
    },
    { timeout: RUN_TIMEOUT },
    FINAL,
  );
  return {
    outcome: await page.$eval('#outcome', (el) => el.textContent),
    metrics: await page.$eval('#metrics', (el) => el.textContent),
  };
}

describe('Firefox', { timeout: 600_000 }, () => {
  let firefox;
  let chromium;
  before(async () => {
    firefox = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
    chromium = await launchBrowser();
  });
  after(async () => {
    if (firefox) await firefox.close();
    if (chromium) await chromium.close();
  });

  it('plays every built-in scenario to the same verdict and metrics as Chromium', async () => {
    const { page: first, errors: firstErrors } = await openFirefox(firefox, '/');
    const names = await first.$$eval('#scenario-select option', (opts) => opts.map((o) => o.value));
    await first.close();
    assertNoErrors(firstErrors);
    assert.ok(names.length >= 8, `built-in scenarios listed: ${names}`);
    for (const name of names) {
      const { page, errors } = await openFirefox(firefox, `/?s=${name}`);
      const got = await playToVerdict(page);
      assert.match(got.metrics, /min_free_pages\s*[\d ]+/, `${name}: the metrics panel has numbers`);
      await page.screenshot({ path: screenshotPath(`firefox-${name}`) });
      await page.close();
      assertNoErrors(errors);

      const c = await openApp(chromium, `/?s=${name}`);
      try {
        await key(c.page, 'End');
        await waitOutcome(c.page);
        const want = { outcome: await c.page.$eval('#outcome', (el) => el.textContent), metrics: await metricsText(c.page) };
        assert.equal(got.outcome, want.outcome, `${name}: outcome`);
        assert.equal(got.metrics, want.metrics, `${name}: metrics at the end`);
        assertNoErrors(c.errors);
      } finally {
        await c.context.close();
      }
    }
  });

  it('steps from the keyboard exactly: Home, three ticks forward, one back', async () => {
    const { page, errors } = await openFirefox(firefox, '/?s=watermarks-101');
    const tickIs = (t) =>
      page.waitForFunction((want) => document.querySelector('#sim-time').getAttribute('data-tick') === String(want), { timeout: APP_TIMEOUT }, t);
    await page.evaluate(() => document.activeElement && document.activeElement.blur && document.activeElement.blur());
    await page.keyboard.press('Home');
    await tickIs(0);
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    await tickIs(3);
    await page.keyboard.press('ArrowLeft');
    await tickIs(2);
    await page.close();
    assertNoErrors(errors);
  });
});
