'use strict';
// Compare mode: two presets side by side with one transport; both outcomes show, four
// fit whole on a projector, and predict mode hides them until revealed.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, waitOutcome, key, tick } = require('./ui-lib.cjs');

describe('compare mode', { timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  it('shows both outcomes of dm-crypt-swap side by side', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&cmp=linux-4.7,linux-4.7%2Bneilbrown');
    try {
      await page.waitForSelector('canvas#timeline-1');
      await key(page, 'End');
      await waitOutcome(page, '.pane:nth-of-type(1) .outcome');
      const b = await waitOutcome(page, '.pane:nth-of-type(2) .outcome');
      assert.equal(b, 'completed');
      const header = await page.$$eval('#compare-metrics thead th', (ths) => ths.map((t) => t.textContent));
      assert.deepEqual(header.slice(1), ['linux-4.7', 'linux-4.7+neilbrown']);
      // Two policies, two columns of numbers (reserve use differs between the variants).
      const cols = await page.$$eval('#compare-metrics tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
      assert.ok(cols.some(([x, y]) => x !== y), 'the two panes show different metrics');
      await page.screenshot({ path: screenshotPath('compare-dm-crypt-swap') });
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('keeps the panes level whatever their outcomes say', async () => {
    // Three panes at 1280 px: "stalled at 2.53 s, resumed at 55.604 s" does not fit beside
    // the preset picker, "completed at 27.005 s" does; the charts still start level.
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&cmp=linux-4.7,linux-4.7%2Bneilbrown,linux-4.9');
    try {
      await key(page, 'End');
      for (const n of [1, 2, 3]) await waitOutcome(page, `.pane:nth-of-type(${n}) .outcome`);
      const tops = await page.$$eval('.pane canvas[id^="timeline-"]', (cs) => cs.map((c) => Math.round(c.getBoundingClientRect().top)));
      assert.equal(tops.length, 3);
      assert.ok(tops.every((t) => t === tops[0]), `chart tops ${tops}`);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('shows every verdict whole in four panes on a projector', async () => {
    // Presenter mode, four panes at 1280 px: about 300 px per pane head. The verdict is
    // never cut; only what followed a stall ("resumed at …") may be.
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&cmp=linux-4.7,linux-4.8,linux-4.7%2Bneilbrown,linux-4.9');
    try {
      await key(page, 'End');
      for (const n of [1, 2, 3, 4]) await waitOutcome(page, `.pane:nth-of-type(${n}) .outcome`);
      await key(page, 'p');
      await page.waitForSelector('.app.presenter');
      // The verdict is the badge's first text; its box must end inside the badge's.
      const badges = await page.$$eval('.pane .outcome', (els) => els.map((e) => {
        const r = document.createRange();
        r.selectNodeContents(e.firstChild);
        return { verdict: e.firstChild.textContent, text: e.textContent, whole: r.getBoundingClientRect().right <= e.getBoundingClientRect().right + 0.5 };
      }));
      assert.equal(badges.length, 4);
      assert.deepEqual(badges.filter((b) => !b.whole), [], 'verdicts cut');
      assert.equal(badges[0].verdict, 'stalled at 2.53 s');
      assert.match(badges[0].text, /^stalled at 2\.53 s, resumed at 5\d(\.\d+)? s$/);
      await page.screenshot({ path: screenshotPath('compare-presenter-4-panes') });
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('predict mode hides outcomes until revealed; c toggles compare', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&cmp=linux-4.7,linux-4.8&predict=1');
    try {
      await key(page, 'End');
      await page.waitForFunction(() => Number(document.querySelector('#sim-time').dataset.tick) > 20000, null, { timeout: 60_000 });
      const hidden = await page.$$eval('.pane .outcome', (els) => els.map((e) => e.dataset.outcome));
      assert.deepEqual(hidden, ['hidden', 'hidden']);
      await page.selectOption('.pane:nth-of-type(1) .predict select', 'completed');
      await page.screenshot({ path: screenshotPath('compare-predict') });
      await page.click('#btn-reveal');
      await waitOutcome(page, '.pane:nth-of-type(1) .outcome');
      await page.waitForSelector('.guess');
      const t = await tick(page);
      await key(page, 'c');
      await page.waitForSelector('canvas#timeline');
      assert.equal(await tick(page) <= t, true);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });
});
