'use strict';
// A knob change forks the run live. In dm-crypt-swap, switching mempool_variant from
// f9054c70 (the linux-4.7 default) to neilbrown at 1 s — before any mempool is used — must
// give exactly the run that starts under neilbrown: same outcome, same numbers at the end.
// The fork shows in the URL and the fork list; undo restores the first branch.
// The last test is the teaching contract as the model reproduces it (docs/scenarios.md):
// under f9054c70 mempool allocations in PF_MEMALLOC context drain the reserve below min
// (≥ 3/4 of it) and the hog does not finish within the run; under neilbrown no reserve is
// used and it completes. (History records an OOM kill under 4.7; the model stalls short of
// it — the hog waits in pfmemalloc_wait and throttle_vm_writeout, never reaching the OOM
// killer — so the test asserts "does not finish", not "OOM kill".)
// ui-oom.test.cjs shows the OOM kill on 4.9's reclaim, where nothing holds the hog in
// throttle_vm_writeout, and the same live toggle to neilbrown turning it into completion.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, waitOutcome, metricsText, key, jumpTo } = require('./ui-lib.cjs');

const outcomeText = (page) => page.$eval('#outcome', (el) => el.textContent);
/** A metric's value from the metrics table, as a number. */
const metricValue = (page, name) =>
  page.$$eval(
    '#metrics tr',
    (rows, n) => {
      const row = rows.find((r) => r.querySelector('th') && r.querySelector('th').textContent.trim() === n);
      return row ? Number(row.querySelector('td').textContent.replace(/[^0-9]/g, '')) : NaN;
    },
    name,
  );

describe('live policy fork in dm-crypt-swap', { timeout: 240_000 }, () => {
  let browser;
  const seen = {};
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  it('forking mempool_variant to neilbrown at 1 s recomputes the future exactly', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.7');
    try {
      await key(page, 'End');
      seen.f9054c70 = await waitOutcome(page);
      seen.reserveF9054c70 = await metricValue(page, 'reserve_pages_used_max');
      seen.endF9054c70 = await page.$eval('#sim-time', (el) => Number(el.getAttribute('data-tick')));
      const firstText = await outcomeText(page);

      await jumpTo(page, 1);
      await page.click('#tab-policy');
      assert.equal(await page.$eval('#knob-mempool_variant', (el) => el.value), 'f9054c70');
      await page.selectOption('#knob-mempool_variant', 'neilbrown');
      await page.waitForSelector('#fork-list li');
      await page.waitForFunction(() => /f=1000@mempool_variant:neilbrown/.test(location.search));
      assert.equal(await page.$eval('#knob-mempool_variant', (el) => el.value), 'neilbrown');

      await key(page, 'End');
      seen.neilbrown = await waitOutcome(page);
      seen.reserveNeilbrown = await metricValue(page, 'reserve_pages_used_max');
      seen.endNeilbrown = await page.$eval('#sim-time', (el) => Number(el.getAttribute('data-tick')));
      const forkedText = await outcomeText(page);
      const forkedMetrics = await metricsText(page);
      await page.screenshot({ path: screenshotPath('fork-dm-crypt-swap-neilbrown') });

      // The same policy from the start, in a fresh page, ends identically.
      const fresh = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.7&k=mempool_variant:neilbrown');
      await key(fresh.page, 'End');
      await waitOutcome(fresh.page);
      assert.equal(await outcomeText(fresh.page), forkedText);
      assert.equal(await metricsText(fresh.page), forkedMetrics);
      assertNoErrors(fresh.errors);
      await fresh.context.close();

      await page.click('#btn-undo-fork');
      await page.waitForSelector('#fork-list', { state: 'detached' });
      await key(page, 'End');
      await page.waitForFunction((t) => document.querySelector('#outcome').textContent === t, firstText, { timeout: 60_000 });
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('a stall is history: toggled to neilbrown after it, the badge keeps the stall and says the hog then completed', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.7');
    try {
      await jumpTo(page, 10);
      await page.click('#tab-policy');
      await page.selectOption('#knob-mempool_variant', 'neilbrown');
      await page.waitForSelector('#fork-list li');
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'stalled');
      assert.match(await outcomeText(page), /^stalled at 2\.53 s, then completed at \d+(\.\d+)? s$/);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('teaching contract: f9054c70 drains the reserve and does not finish, neilbrown completes', () => {
    assert.notEqual(seen.f9054c70, 'completed', `f9054c70 ended ${seen.f9054c70}`);
    assert.equal(seen.neilbrown, 'completed');
    // min is 1024 pages in this scenario (1 GiB, scale-factor watermarks).
    assert.ok(seen.reserveF9054c70 >= 768, `reserve used under f9054c70: ${seen.reserveF9054c70}`);
    assert.equal(seen.reserveNeilbrown, 0);
    assert.ok(seen.endNeilbrown < seen.endF9054c70, `neilbrown ends at ${seen.endNeilbrown}, f9054c70 at ${seen.endF9054c70}`);
  });
});
