'use strict';
// The 4.7 mempool's reserve depletion ending in an OOM kill, and NeilBrown's mempool
// turning it into completion — toggled live in dm-crypt-swap. The kernel here is 4.9's
// reclaim (throttle_vm_writeout removed) with f9054c70 put back: under linux-4.7 itself the
// same depletion ends in a freeze instead, because throttle_vm_writeout holds every
// GFP_KERNEL reclaimer (tests/it/matrix.rs, docs/scenarios.md). The kernel log must show
// the kill as dmesg would, with the Mem-Info taken at the kill (free below min, most of
// the inactive anon list under writeback), not after the reaper freed the victim.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, waitOutcome, key, jumpTo } = require('./ui-lib.cjs');

describe('OOM kill under the 4.7 mempool, toggled to neilbrown', { timeout: 240_000 }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  it('under linux-4.7 itself the depletion stalls the machine: the hog stops, no OOM kill', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.7');
    try {
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'stalled');
      const verdict = await page.waitForSelector('#why-stuck');
      const verdictText = await verdict.textContent();
      // At the end the hog moves again (55.6 s): the stall is history, and says so.
      assert.match(verdictText, /Why was it stuck\? \(stalled from 2\.5\d+ s to 5\d(\.\d+)? s; moving again since\)/);
      assert.match(await page.$eval('#outcome', (el) => el.textContent), /^stalled at 2\.53 s, resumed at 5\d(\.\d+)? s$/);
      assert.match(verdictText, /hog → pfmemalloc_wait → kswapd0/);
      assert.match(verdictText, /Stalled, not deadlocked/);
      await verdict.screenshot({ path: screenshotPath('why-stuck-dm-crypt-swap-linux-4.7-verdict') });
      // Before the run's end the badge says what is known at the cursor: nothing yet at
      // 2 s, the stall (found at 7.53 s, a window after the hog's last progress) at 20 s.
      const badgeAt = async (t, outcome) => {
        await jumpTo(page, t);
        await page.waitForFunction((o) => document.querySelector('#outcome').dataset.outcome === o, outcome);
        return page.$eval('#outcome', (el) => el.textContent);
      };
      assert.equal(await badgeAt(2, 'running'), 'running');
      assert.equal(await badgeAt(20, 'stalled_so_far'), 'stalled at 2.53 s, the run goes on');
      assert.match(await badgeAt(56, 'stalled_so_far'), /^stalled at 2\.53 s, resumed at 55\.6\d* s$/);
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'stalled');
      await page.click('#tab-klog');
      const log = await page.waitForSelector('#kernel-log');
      const text = await log.textContent();
      assert.doesNotMatch(text, /oom-killer/);
      // The hog waits in wait_event_killable: khungtaskd (TASK_UNINTERRUPTIBLE only) is silent.
      assert.doesNotMatch(text, /blocked for more than/);

      // Mid-freeze, "Why is it stuck?" shows the cycle of waits although the run goes on.
      await jumpTo(page, 30);
      const why = await page.waitForSelector('#why-stuck');
      const whyText = await why.textContent();
      assert.match(whyText, /Why is hog stuck\? \(asleep for 2\d\.\d+ s/);
      assert.match(whyText, /hog → pfmemalloc_wait → kswapd0/);
      assert.match(whyText, /kswapd0 → mempool_alloc\(dm-io\) → elements held by I\/O on dm-0 that only kcryptd completes/);
      assert.match(whyText, /kcryptd → throttle_vm_writeout → writeback of dm-0 pages that only kcryptd completes/);
      assert.match(whyText, /↺ kcryptd/);
      await why.screenshot({ path: screenshotPath('why-stuck-dm-crypt-swap-linux-4.7-at-30s') });
      // The compact line under the lanes says the same where it is always on screen.
      const line = await page.$eval('#stuck-line', (el) => el.textContent);
      assert.match(line, /Why is hog stuck\?.*↺ kcryptd/s);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('compare mode shows each pane\'s wait-for cycle: 4.7 freezes, NeilBrown does not', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&cmp=linux-4.7,linux-4.7%2Bneilbrown');
    try {
      await jumpTo(page, 30);
      const stuck = await page.waitForSelector('#stuck-0');
      assert.match(await stuck.textContent(), /Why is hog stuck\?.*hog.*pfmemalloc_wait.*kswapd0.*mempool_alloc\(dm-io\).*kcryptd.*throttle_vm_writeout.*↺ kcryptd/s);
      assert.equal(await page.$('#stuck-1'), null, 'neilbrown is not stuck');
      await page.screenshot({ path: screenshotPath('compare-dm-crypt-swap-stuck-at-30s') });
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('f9054c70 ends in an OOM kill with a dmesg-style report; neilbrown completes', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.9&k=mempool_variant:f9054c70');
    try {
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'oom_kill');

      await page.screenshot({ path: screenshotPath('oom-dm-crypt-swap-f9054c70') });
      await page.click('#tab-klog');
      const log = await page.waitForSelector('#kernel-log');
      const text = await log.textContent();
      assert.match(text, /hog invoked oom-killer: gfp_mask=0x24200ca\(GFP_HIGHUSER_MOVABLE\)/);
      // dump_header's dump_stack: the hog's page fault calling into the OOM killer.
      const lines = await log.evaluate((el) => el.innerText);
      assert.match(lines, /CPU: 0 PID: 1000 Comm: hog Not tainted\n\[[ \d.]+\] Call Trace:\n\[[ \d.]+\]  dump_stack\+0x0\/0x0\n\[[ \d.]+\]  dump_header\+0x0\/0x0\n\[[ \d.]+\]  oom_kill_process\+0x0\/0x0\n\[[ \d.]+\]  out_of_memory\+0x0\/0x0\n/);
      assert.match(text, /Out of memory: Kill process 1000 \(hog\) score \d+ or sacrifice child/);
      const score = Number(text.match(/score (\d+) or sacrifice/)[1]);
      assert.ok(score > 0 && score < 1000, `score ${score}`);
      // The Mem-Info is the one at the kill: DMA32 below its min watermark.
      const dma32 = text.match(/Node 0 DMA32 free:(\d+)kB min:(\d+)kB/);
      assert.ok(dma32, text);
      assert.ok(Number(dma32[1]) < Number(dma32[2]), `DMA32 free ${dma32[1]} kB, min ${dma32[2]} kB`);
      await log.screenshot({ path: screenshotPath('oom-dm-crypt-swap-f9054c70-kernel-log') });

      // Live toggle at 1 s (before any pool runs dry): the future is recomputed.
      await jumpTo(page, 1);
      await page.click('#tab-policy');
      await page.selectOption('#knob-mempool_variant', 'neilbrown');
      await page.waitForFunction(() => /f=1000@mempool_variant:neilbrown/.test(location.search));
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'completed');
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('a stall no chain explains, once over, is told as of its last frozen tick (linux-4.8)', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.8');
    try {
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'stalled');
      const text = await (await page.waitForSelector('#why-stuck')).textContent();
      assert.match(text, /Why was it stuck\? \(stalled from 27\.\d+ s to 32\.\d+ s; moving again since\)/);
      // At the end the hog has exited; the words describe the freeze, not the cursor.
      assert.match(text, /made progress from 27\.\d+ s to 32\.\d+ s, and no closed wait-for chain explains it\. At 32\.\d+ s: hog sleeps in throttle_vm_writeout/);
      assert.doesNotMatch(text, /: \./);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });
});
