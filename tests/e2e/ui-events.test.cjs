'use strict';
// The event log's filter: what is typed narrows the rows to events naming it (a task, a
// kernel function, a kind, a pool…), the count says how many match, and Shift+←/→ jump
// between matching events only.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, tick, jumpTo, key } = require('./ui-lib.cjs');

/** The rows' texts, newest first, and the numbers of the count line. */
async function logState(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll('#event-log li')].map((li) => li.textContent);
    const count = document.querySelector('.event-log .count').textContent;
    return { rows, count, tick: Number(document.querySelector('#sim-time').dataset.tick) };
  });
}

/** "3 of 1 234 matching events up to now (of 9 876)" → 1234. */
const matching = (count) => {
  const m = count.match(/of ([\d\u202f]+) matching/);
  return m ? Number(m[1].replace(/\u202f/g, '')) : NaN;
};

describe('event log filter', { timeout: 120_000 }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  it('narrows the log and Shift+arrows jump between matching events', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.7');
    try {
      await page.click('#tab-events');
      await jumpTo(page, 10);
      const all = await logState(page);
      assert.match(all.count, /^80 of [\d\u202f]+ events up to now/);
      await page.fill('#event-filter', 'kcryptd');
      await page.waitForFunction(() => /matching/.test(document.querySelector('.event-log .count').textContent));
      const filtered = await logState(page);
      assert.ok(filtered.rows.length > 0, 'kcryptd has events by 10 s');
      for (const row of filtered.rows) assert.match(row, /kcryptd/);
      const n = matching(filtered.count);
      assert.ok(n >= filtered.rows.length && n > 0, filtered.count);
      await page.$eval('.event-log', (el) => el.scrollIntoView());
      await page.screenshot({ path: screenshotPath('event-filter-dm-crypt-swap') });

      // Next matching event: the cursor moves past 10 s and the newest row is kcryptd's.
      await key(page, 'Shift+ArrowRight');
      await page.waitForFunction((t) => Number(document.querySelector('#sim-time').dataset.tick) > t, filtered.tick);
      const next = await logState(page);
      assert.ok(matching(next.count) > n, `${next.count} after ${filtered.count}`);
      assert.match(next.rows[0], /kcryptd/);
      // …and back: the count returns to what it was before the jump, or below.
      await key(page, 'Shift+ArrowLeft');
      await page.waitForFunction((t) => Number(document.querySelector('#sim-time').dataset.tick) < t, next.tick);
      const back = await logState(page);
      assert.ok(matching(back.count) < matching(next.count), `${back.count} after ${next.count}`);
      assert.ok((await tick(page)) <= 10_000);

      // A pool by name and a filter nothing names.
      await page.fill('#event-filter', 'crypt-page-pool');
      await page.waitForFunction(() => document.querySelectorAll('#event-log li').length > 0);
      for (const row of (await logState(page)).rows) assert.match(row, /crypt-page-pool/);
      await page.fill('#event-filter', 'no such thing');
      await page.waitForFunction(() => document.querySelectorAll('#event-log li').length === 0);
      assert.match((await logState(page)).count, /^0 of 0 matching/);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });
});
