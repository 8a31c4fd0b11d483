'use strict';
// Performance figures for BENCHMARKS.md, measured in the browser and written to
// target/ui-bench.json: time to compute a whole dm-crypt-swap run after a policy change,
// and the app's own per-frame work (p95, from window.__plFrameStats, measured with
// performance.now() around update + render + draw) while 4 compare panes play at the top
// speed; and the app's own time for the action that recomputes (window.__plRecompute: it
// computes up to 50 ms at once, then the rest fills in per frame), after a toggle at 0 s,
// a fork at 20 s, loading the longest built-in (swap-over-nbd), and toggling its preset at
// 0 s once its run is computed (and back, which takes the replaced run back).
// Budgets (issue 5): recompute ≤ 50 ms, frame p95 ≤ 8 ms. Printed, and checked only
// loosely (a loaded CI machine must not fail on timing); the JSON records the numbers.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { launchBrowser, assertNoErrors, REPO_ROOT } = require('./helpers.cjs');
const { openApp, waitOutcome, key } = require('./ui-lib.cjs');

/** Play for `frames` frames from the cursor and return the app's frame statistics. */
async function playFrames(page, frames) {
  await page.evaluate(() => window.__plResetFrameStats());
  await key(page, ' ');
  await page.waitForFunction((n) => window.__plFrameStats && window.__plFrameStats.frames >= n, frames, { timeout: 60_000 });
  const stats = await page.evaluate(() => window.__plFrameStats);
  await key(page, ' ');
  return stats;
}

describe('performance figures', { timeout: 240_000 }, () => {
  let browser;
  const results = {};
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    fs.mkdirSync(path.join(REPO_ROOT, 'target'), { recursive: true });
    fs.writeFileSync(path.join(REPO_ROOT, 'target', 'ui-bench.json'), JSON.stringify(results, null, 2));
    console.log('ui-bench', JSON.stringify(results));
  });

  it('release .wasm stays within the 350 KB gzip budget', () => {
    // Size is not timing: this one is a hard check (issue 5's budget, gzip -9).
    const dist = path.join(REPO_ROOT, 'dist');
    const wasm = fs.readdirSync(dist).filter((f) => f.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `one .wasm in dist/: ${wasm}`);
    const raw = fs.readFileSync(path.join(dist, wasm[0]));
    const gz = zlib.gzipSync(raw, { level: 9 }).length;
    results.wasm_raw_bytes = raw.length;
    results.wasm_gzip_bytes = gz;
    assert.ok(gz <= 350_000, `release .wasm is ${gz} bytes gzipped (budget 350000)`);
  });

  it('recompute after a policy change at 0 s (whole default-length run)', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap');
    try {
      await key(page, 'End');
      await waitOutcome(page);
      await key(page, 'Home');
      await page.waitForFunction(() => document.querySelector('#sim-time').dataset.tick === '0');
      await page.click('#tab-policy');
      const t0 = await page.evaluate(() => performance.now());
      await page.selectOption('#knob-mempool_variant', 'neilbrown');
      await key(page, 'End');
      await waitOutcome(page);
      const t1 = await page.evaluate(() => performance.now());
      // Wall time seen by the page (includes playwright's round trips and frame waits)…
      results.recompute_ms_dm_crypt_swap = Math.round(t1 - t0);
      // …and the app's own: the action that recomputed, as the app measured it.
      const own = await page.evaluate(() => window.__plRecompute);
      results.recompute_action_ms_dm_crypt_swap = Number(own.ms.toFixed(1));
      results.recompute_action_done_dm_crypt_swap = own.done;
      results.recompute_action_computed_ms_dm_crypt_swap = own.computed_tick;
      assert.ok(t1 > t0);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('recompute after a fork mid-run, and on a long run (first screen, then per frame)', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&t=20');
    try {
      await page.waitForFunction(() => document.querySelector('#sim-time').dataset.tick === '20000', null, { timeout: 60_000 });
      await page.click('#tab-policy');
      await page.evaluate(() => { window.__plRecompute = undefined; });
      await page.selectOption('#knob-mempool_variant', 'neilbrown');
      await page.waitForFunction(() => window.__plRecompute !== undefined);
      const fork = await page.evaluate(() => window.__plRecompute);
      results.fork_action_ms_dm_crypt_swap_at_20s = Number(fork.ms.toFixed(1));
      results.fork_action_done_dm_crypt_swap_at_20s = fork.done;
      results.fork_action_computed_ms_dm_crypt_swap_at_20s = fork.computed_tick;
      // swap-over-nbd: the longest built-in (the simulation alone is ~4× dm-crypt-swap).
      await page.selectOption('#scenario-select', 'swap-over-nbd');
      await page.waitForFunction(() => window.__plRecompute && window.__plRecompute.computed_tick > 0 && document.querySelector('#scenario-select').value === 'swap-over-nbd');
      const first = await page.evaluate(() => window.__plRecompute);
      results.load_first_screen_ms_swap_over_nbd = Number(first.ms.toFixed(1));
      results.load_first_screen_computed_ms_swap_over_nbd = first.computed_tick;
      const t0 = await page.evaluate(() => performance.now());
      await key(page, 'End');
      await waitOutcome(page);
      const t1 = await page.evaluate(() => performance.now());
      results.load_rest_filled_in_ms_swap_over_nbd = Math.round(t1 - t0);
      // A policy toggle at 0 s on the computed run (what a teacher does next): the code
      // that computes it has now run once, so V8 has compiled it with its optimising tier
      // (a page's first run of a scenario runs partly in the baseline tier, 2-4x slower;
      // BENCHMARKS.md). Three times, to show the spread, each to a preset whose run the
      // page does not hold (it keeps the run a change replaced, for changing back: below).
      await key(page, 'Home');
      await page.waitForFunction(() => document.querySelector('#sim-time').dataset.tick === '0');
      const ends = {};
      for (const [i, preset] of [[1, 'linux-4.5'], [2, 'linux-3.5'], [3, 'linux-3.6']]) {
        await page.evaluate(() => { window.__plRecompute = undefined; });
        await page.selectOption('#preset-select', preset);
        await page.waitForFunction(() => window.__plRecompute !== undefined);
        const toggle = await page.evaluate(() => window.__plRecompute);
        results[`toggle_${i}_action_ms_swap_over_nbd`] = Number(toggle.ms.toFixed(1));
        results[`toggle_${i}_done_swap_over_nbd`] = toggle.done;
        results[`toggle_${i}_computed_ms_swap_over_nbd`] = toggle.computed_tick;
        assert.ok(toggle.computed_tick > 0, `the toggle to ${preset} computed nothing`);
        await key(page, 'End');
        await waitOutcome(page);
        ends[preset] = {
          tick: await page.$eval('#sim-time', (el) => el.dataset.tick),
          outcome: await page.$eval('#outcome', (el) => el.textContent),
          metrics: await page.$eval('#metrics', (el) => el.textContent),
        };
        await key(page, 'Home');
        await page.waitForFunction(() => document.querySelector('#sim-time').dataset.tick === '0');
      }
      // Changing back to the policy just replaced (linux-3.5) takes its run back: whole at
      // once, and the same run (the same end, outcome and metrics there).
      await page.evaluate(() => { window.__plRecompute = undefined; });
      await page.selectOption('#preset-select', 'linux-3.5');
      await page.waitForFunction(() => window.__plRecompute !== undefined);
      const back = await page.evaluate(() => window.__plRecompute);
      results.toggle_back_action_ms_swap_over_nbd = Number(back.ms.toFixed(1));
      assert.equal(back.done, true, 'changing back to linux-3.5 left its run to compute');
      assert.equal(String(back.computed_tick), ends['linux-3.5'].tick);
      await key(page, 'End');
      await waitOutcome(page);
      assert.equal(await page.$eval('#sim-time', (el) => el.dataset.tick), ends['linux-3.5'].tick);
      assert.equal(await page.$eval('#outcome', (el) => el.textContent), ends['linux-3.5'].outcome);
      assert.equal(await page.$eval('#metrics', (el) => el.textContent), ends['linux-3.5'].metrics);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('per-frame work while 4 panes play at the top speed', async () => {
    const { context, page, errors } = await openApp(
      browser,
      '/?s=dm-crypt-swap&cmp=linux-4.5,linux-4.7,linux-4.8,linux-4.7%2Bneilbrown&speed=5000&loop=0-59',
    );
    try {
      await key(page, 'End');
      await waitOutcome(page, '.pane:nth-of-type(4) .outcome');
      await key(page, 'Home');
      const stats = await playFrames(page, 120);
      results.frame_p95_ms_4_panes = Number(stats.p95_ms.toFixed(2));
      results.frame_max_ms_4_panes = Number(stats.max_ms.toFixed(2));
      results.frames_measured = stats.frames;
      assert.ok(stats.p95_ms > 0 && stats.p95_ms < 100, `p95 ${stats.p95_ms} ms`);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('per-frame work while a 600 s run is computed, and the event list bound', async () => {
    // swap-over-nbd edited to the longest run the limits allow (readers of 14 GiB each,
    // 256 GiB of swap, 600 s): 815 000 lane changes and 3.5 million events. The lanes
    // redraw every few frames while it computes; redrawing them from the start each time
    // took 100-160 ms a frame (p95 105 ms).
    const { context, page, errors } = await openApp(browser, '/?s=swap-over-nbd&p=linux-3.6');
    try {
      await page.click('#tab-params');
      const edits = [['/swap/mib', 262144], ['/duration_ms', 600000]];
      for (let i = 0; i < 8; i++) edits.push([`/tasks/${i}/program/0/mib`, 14336]);
      for (const [k, [pointer, value]] of edits.entries()) {
        const field = `[data-pointer="${pointer}"]`;
        await page.fill(field, String(value));
        await page.press(field, 'Enter');
        await page.waitForFunction((n) => document.querySelectorAll('table.params tr.changed').length === n, k + 1);
      }
      await page.click('#tab-events');
      await page.evaluate(() => window.__plResetFrameStats());
      await key(page, 'End');
      await waitOutcome(page, '#outcome', 120_000);
      const stats = await page.evaluate(() => window.__plFrameStats);
      results.frame_p95_ms_computing_600s_run = Number(stats.p95_ms.toFixed(2));
      results.frame_max_ms_computing_600s_run = Number(stats.max_ms.toFixed(2));
      results.frames_computing_600s_run = stats.frames;
      assert.equal(await page.$eval('#sim-time', (el) => el.dataset.tick), '600000');
      assert.match(await page.$eval('.event-log .count', (el) => el.textContent), /keeps a run's first 500\u202f000 events, so none after [\d.]+ s is listed/);
      assert.ok(stats.p95_ms > 0 && stats.p95_ms < 100, `p95 ${stats.p95_ms} ms`);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('per-frame work while playing with an event filter that matches nothing', async () => {
    // 166 000 events by the end of swap-over-nbd; the log must not look at all of them
    // on every frame (it did: 200-450 ms a frame before the filter kept an index).
    const { context, page, errors } = await openApp(browser, '/?s=swap-over-nbd&p=linux-3.6&speed=1');
    try {
      await page.click('#tab-events');
      await key(page, 'End');
      await waitOutcome(page);
      await page.fill('#event-filter', 'oom_kill_process');
      await page.fill('#jump-time', '35');
      await page.press('#jump-time', 'Enter');
      await page.waitForFunction(() => document.querySelector('#sim-time').dataset.tick === '35000');
      const stats = await playFrames(page, 60);
      results.frame_p95_ms_filter_matching_nothing = Number(stats.p95_ms.toFixed(2));
      results.frame_max_ms_filter_matching_nothing = Number(stats.max_ms.toFixed(2));
      assert.match(await page.$eval('.event-log .count', (el) => el.textContent), /^0 of 0 matching/);
      assert.ok(stats.p95_ms > 0 && stats.p95_ms < 100, `p95 ${stats.p95_ms} ms`);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });
});
