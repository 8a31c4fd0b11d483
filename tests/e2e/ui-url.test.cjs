'use strict';
// The address bar holds the state: a copied URL opened in a fresh browser context shows
// the same numbers at the same time (forks and edited parameters included); a garbage or
// truncated URL shows what was wrong and a working page.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, baseUrl, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, waitTick, metricsText, tick, jumpTo, key } = require('./ui-lib.cjs');

describe('shareable URL', { timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  it('a copied URL reproduces the same metrics text at the same time', async () => {
    const a = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.7&t=2.5');
    await waitTick(a.page, 2500);
    // A fork and an edited parameter must travel too.
    await a.page.click('#tab-policy');
    await a.page.selectOption('#knob-mempool_variant', 'hocko-2');
    await a.page.waitForSelector('#fork-list li');
    await a.page.click('#tab-params');
    await a.page.fill('input[data-pointer="/pools/2/min_nr"]', '128');
    await a.page.press('input[data-pointer="/pools/2/min_nr"]', 'Enter');
    await a.page.waitForFunction(() => /[?&]e=/.test(location.search));
    await jumpTo(a.page, 7.25);
    await a.page.click('#btn-step');
    await waitTick(a.page, 7251);
    await a.page.waitForFunction(() => /[?&]t=7\.251(&|$)/.test(location.search));
    const url = a.page.url();
    const text = await metricsText(a.page);
    assertNoErrors(a.errors);
    await a.context.close();

    const b = await openApp(browser, url.slice(baseUrl().length));
    await waitTick(b.page, 7251);
    assert.equal(await metricsText(b.page), text);
    assert.equal(await b.page.$eval('input[data-pointer="/pools/2/min_nr"]', (el) => el.value).catch(() => null), null, 'params tab closed by default');
    assert.equal(await b.page.$('#messages'), null, 'no complaints about a good URL');
    assertNoErrors(b.errors);
    await b.context.close();
  });

  it('a bad scenario parameter is named beside the fields, each message replacing the last', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap');
    try {
      await page.click('#tab-params');
      const field = 'input[data-pointer="/zones/0/mib"]';
      const tryValue = async (value) => {
        await page.fill(field, value);
        await page.press(field, 'Enter');
        // Each message names the value it refuses: wait for this one's.
        await page.waitForFunction((v) => document.querySelector('#param-error')?.textContent.includes(` ${v}`) || document.querySelector('#param-error')?.textContent.includes(`'${v}'`), value);
        return page.$eval('#param-error', (el) => el.textContent);
      };
      assert.equal(await tryValue('-5'), "zone DMA: mib: '-5' is not a whole number");
      assert.equal(await tryValue('99999999999999999999'), 'zone DMA: mib: 99999999999999999999 is far too large');
      assert.match(await tryValue('0'), /^zones\[0\]\.mib: value 0 is not allowed; allowed: 16\.\.=\d+$/);
      // Nothing went to the page-wide messages, and the run is the scenario's own.
      assert.equal(await page.$('#messages'), null);
      assert.doesNotMatch(page.url(), /[?&]e=/);
      // A good value clears the message and travels in the link.
      await page.fill(field, '32');
      await page.press(field, 'Enter');
      await page.waitForFunction(() => /[?&]e=/.test(location.search) && !document.querySelector('#param-error'));
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('stepping fast writes the address bar at a rate Safari allows, and ends on the last state', async () => {
    // Safari refuses more than 100 history.replaceState calls in 30 s: count the calls
    // while the arrow key steps 60 times as fast as the page takes them.
    const a = await openApp(browser, '/?s=watermarks-101');
    await a.page.evaluate(() => {
      window.__plReplaceCalls = [];
      const orig = history.replaceState.bind(history);
      history.replaceState = (...args) => {
        window.__plReplaceCalls.push(performance.now());
        return orig(...args);
      };
    });
    await key(a.page, 'Home');
    await waitTick(a.page, 0);
    const t0 = await a.page.evaluate(() => performance.now());
    for (let i = 0; i < 60; i++) await a.page.keyboard.press('ArrowRight');
    await waitTick(a.page, 60);
    // The last state reaches the address bar once the write's turn comes.
    await a.page.waitForFunction(() => /[?&]t=0\.06(&|$)/.test(location.search));
    const calls = await a.page.evaluate((start) => window.__plReplaceCalls.filter((t) => t >= start), t0);
    const spanMs = calls.length ? calls[calls.length - 1] - t0 : 0;
    // At most one write per 500 ms (URL_EVERY_MS in src/ui/app.rs), plus the first one.
    assert.ok(calls.length <= Math.floor(spanMs / 490) + 1, `${calls.length} writes in ${spanMs.toFixed(0)} ms`);
    assertNoErrors(a.errors);
    await a.context.close();
  });

  it('a garbage URL shows an error message and a working page', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=no-such&p=linux-9&t=abc&k=bogus:1&e=%%%zz&v=99&junk');
    try {
      const msg = await page.$eval('#messages', (el) => el.textContent);
      for (const needle of ['s=no-such', 'p=linux-9', 't=abc', 'bogus', 'model version 99', "'junk'"]) {
        assert.ok(msg.includes(needle), `message should name ${needle}: ${msg}`);
      }
      assert.equal(await page.$eval('#scenario-select', (el) => el.value), 'watermarks-101');
      const t0 = await tick(page);
      await page.click('#btn-step');
      await waitTick(page, t0 + 1);
      await page.screenshot({ path: screenshotPath('garbage-url') });
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('a truncated compact blob is reported and ignored', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&e=eJzT0y');
    try {
      const msg = await page.$eval('#messages', (el) => el.textContent);
      assert.match(msg, /^e: /);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });
});
