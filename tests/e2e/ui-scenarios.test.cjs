'use strict';
// Every built-in scenario loads without console errors, plays (End) to its verdict, and
// leaves screenshots of its key moment (the last chapter) and of its end under
// target/screenshots/; at the end every device gauge is on the 1280×720 screen, and in
// presenter mode the verdict and the stuck line are whole on it.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { OUTCOMES, openApp, tick, waitOutcome, key } = require('./ui-lib.cjs');

const SCENARIOS = [
  'watermarks-101',
  'dirty-throttling-101',
  'dm-crypt-swap',
  'oom-victim-mempool',
  'swap-over-nbd',
  'swap-over-nfs',
  'direct-reclaim-writepage-xfs',
  'nfsd-loopback',
];

/** In presenter mode, what a projector must show whole: the verdict badge (in the header,
 * not cut with an ellipsis) and the "Why is it stuck?" line above the transport bar. */
function presenterProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const badge = document.querySelector('#outcome');
    if (!badge.closest('header.top')) problems.push('verdict not in the header');
    if (badge.scrollWidth > badge.clientWidth) problems.push(`verdict cut: ${badge.textContent}`);
    const header = document.querySelector('header.top').getBoundingClientRect();
    if (badge.getBoundingClientRect().top > header.top + header.height / 2) problems.push('verdict wrapped to a second header row');
    const stuck = document.querySelector('#stuck-line');
    const top = document.querySelector('nav.transport').getBoundingClientRect().top;
    if (stuck && stuck.getBoundingClientRect().bottom > top + 1) problems.push('stuck line below the fold');
    return problems;
  });
}

/** Names of the devices whose gauge (or, for a dm device, name) reaches below the top of
 * the transport bar; an empty devices panel counts as hidden. */
function devicesBelowFold(page) {
  return page.evaluate(() => {
    const top = document.querySelector('nav.transport').getBoundingClientRect().top;
    const rows = [...document.querySelectorAll('section.devices .device')];
    if (rows.length === 0) return ['(no devices panel)'];
    return rows
      .filter((row) => (row.querySelector('.bar') || row.querySelector('.pname')).getBoundingClientRect().bottom > top)
      .map((row) => row.querySelector('.pname').textContent);
  });
}

describe('every built-in scenario plays to its verdict', { timeout: 600_000 }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  for (const name of SCENARIOS) {
    it(name, async () => {
      const { context, page, errors } = await openApp(browser, `/?s=${name}`);
      try {
        assert.equal(await page.$eval('#scenario-select', (el) => el.value), name);
        await key(page, 'End');
        const outcome = await waitOutcome(page);
        assert.ok(OUTCOMES.includes(outcome), `outcome ${outcome}`);
        const end = await tick(page);
        assert.ok(end > 0, 'the run took time');
        // Readable at 1280×720: every device's name and gauge (a dm device has words only)
        // stand above the transport bar, with the right column at its fullest (the
        // verdict's chain is shown) — and in presenter mode, where the devices move under
        // the zone gauges in the enlarged right column.
        assert.deepEqual(await devicesBelowFold(page), [], 'devices below the fold at 1280×720');
        await key(page, 'p');
        await page.waitForSelector('.app.presenter');
        assert.deepEqual(await devicesBelowFold(page), [], 'devices below the fold in presenter mode');
        assert.deepEqual(await presenterProblems(page), [], 'presenter mode at 1280×720');
        await page.screenshot({ path: screenshotPath(`presenter-${name}-end`) });
        await key(page, 'p');
        await page.waitForSelector('.app:not(.presenter)');
        await page.screenshot({ path: screenshotPath(`scenario-${name}-end`) });
        // The key moment: the start of the last chapter reached.
        await key(page, 'PageUp');
        await page.waitForFunction((e) => Number(document.querySelector('#sim-time').dataset.tick) < e, end, { timeout: 10_000 });
        await page.screenshot({ path: screenshotPath(`scenario-${name}`) });
        assertNoErrors(errors);
      } finally {
        await context.close();
      }
    });
  }
});
