'use strict';
// What the model knows about reserves and stacks, on screen: the zone gauge marks the
// effective floor of the allocations that went below min (GFP_ATOMIC's 3/8·min, none for
// PF_MEMALLOC), and a stack overflow shows the stack that overflowed frame by frame
// (->writepage = xfs_vm_writepage … mempool_alloc_slab, plus the seeded extra depth) in
// the selected-task panel and in the kernel log; at a deadlock or stall the panel shows
// the task the story is about unless one is chosen.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, waitTick, waitOutcome, key, jumpTo } = require('./ui-lib.cjs');

describe('reserves and stacks', { timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  it('a program asleep in user space shows its nanosleep stack, with the bytes it lists', async () => {
    // watermarks-101: the hog touches 700 MiB in 2 s, then sleeps 3 s holding it.
    const { context, page, errors } = await openApp(browser, '/?s=watermarks-101&t=3');
    try {
      await waitTick(page, 3000);
      assert.equal(await page.$eval('#selected-task', (el) => el.textContent), 'hog');
      assert.match(await page.$eval('.task-state', (el) => el.textContent), /nanosleep \(the program's own sleep\)/);
      const frames = await page.$$eval('#stack-frames tbody td.fn', (tds) => tds.map((td) => td.textContent));
      assert.deepEqual(frames, ['schedule', 'do_nanosleep', 'hrtimer_nanosleep', 'sys_nanosleep', 'system_call_fastpath']);
      assert.match(await page.$eval('.depth-num', (el) => el.textContent), /^stack 544 \/ 16\s384 B/);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('swap-over-nbd below min: GFP_ATOMIC and PF_MEMALLOC floors on the gauge', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=swap-over-nbd&p=linux-3.6&t=5.35');
    try {
      await waitTick(page, 5350);
      await page.waitForSelector('.zones .floor-note');
      const notes = await page.$$eval('.zones .floor-note', (els) =>
        els.map((el) => ({ text: el.textContent, floor: Number(el.dataset.floor) })),
      );
      const atomic = notes.find((n) => n.text.includes('GFP_ATOMIC: floor 3/8·min'));
      assert.ok(atomic, JSON.stringify(notes));
      assert.match(atomic.text, /^net_rx: /);
      assert.ok(atomic.floor > 0);
      const none = notes.find((n) => n.text.includes('no floor'));
      assert.ok(none && none.floor === 0, JSON.stringify(notes));
      // The marks sit on the gauge, the atomic one left of min.
      const marks = await page.$$eval('.zones .gauge .floor', (els) => els.map((el) => parseFloat(el.style.left)));
      const min = await page.$eval('.zones .gauge .wm-min', (el) => parseFloat(el.style.left));
      assert.ok(marks.some((x) => x > 0 && x < min), `${marks} vs min ${min}`);
      assert.ok(marks.some((x) => x === 0), `${marks}`);
      await page.screenshot({ path: screenshotPath('reserve-floors-swap-over-nbd') });
      // Far from any dip, no floor is marked.
      await jumpTo(page, 1);
      assert.equal(await page.$$eval('.floor-note', (els) => els.length), 0);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('swap-over-nbd under linux-3.5: the lockup explained without a chain, its stack and its dmesg', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=swap-over-nbd&p=linux-3.5');
    try {
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'stalled');
      const why = await (await page.waitForSelector('#why-stuck')).textContent();
      // A livelock: the readers never sleep, so no wait-for chain closes; the panel says
      // who loops, that nothing was written back, and that free sits on the atomic floor.
      assert.match(why, /reader3, reader4.* never sleep — they loop through direct reclaim/);
      assert.match(why, / 0 pages written back, [\d\u202f]+ packets dropped for want of memory/);
      assert.match(why, /at or below the GFP_ATOMIC floor \(543 = 3\/8·min\)/);
      // Mid-run, once the stall is found (a window after the readers' last progress), the
      // panel says the same of the livelock so far, beside the badge's "the run goes on".
      await jumpTo(page, 60);
      await page.waitForFunction(() => document.querySelector('#outcome').dataset.outcome === 'stalled_so_far');
      const whyAt60 = await (await page.waitForSelector('#why-stuck')).textContent();
      assert.match(whyAt60, /^Why is it stuck\? \(stalled since 29\.5\d+ s\)/);
      assert.match(whyAt60, /never sleep — they loop through direct reclaim/);
      assert.match(whyAt60, /From 34\.5\d+ s to 60 s: 0 pages written back/);
      await key(page, 'End');
      await waitOutcome(page);
      // Why kswapd sits in io_schedule: the devices panel shows the socket's send buffer full.
      assert.match(await page.$eval('#kswapd-state', (el) => el.textContent), /stuck in io_schedule/);
      const devices = await page.$eval('section.devices', (el) => el.textContent);
      assert.match(devices, /nbd0send buffer \d+ \/ 2048 pages, full: writers wait in io_schedule; \d+ requests await replies/);
      await page.screenshot({ path: screenshotPath('why-stuck-swap-over-nbd-linux-3.5') });
      // Readers 0–2 finished before the livelock: the stack shown is the first reader still
      // spinning in direct reclaim, not one that exited.
      assert.equal(await page.$eval('#selected-task', (el) => el.textContent), 'reader3');
      assert.match(await page.$eval('.task-state', (el) => el.textContent), /direct reclaim/);
      // The dmesg of a swap-over-network freeze: NET_RX's skb allocations failing,
      // ratelimited by warn_alloc_failed.
      await page.click('#tab-klog');
      const klog = await page.$eval('#kernel-log', (el) => el.textContent);
      assert.ok(klog.includes('net_rx: page allocation failure: order:0, mode:0x20'), klog.slice(0, 400));
      assert.match(klog, /warn_alloc_failed: \d+ callbacks suppressed/);
      // Each report's call trace and Mem-Info are folded under its first two lines; the
      // keyboard opens a fold (Enter on its summary).
      const fold = page.locator('#kernel-log details').first();
      assert.equal(await fold.evaluate((el) => el.open), false);
      await fold.locator('summary').focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelector('#kernel-log details').open);
      const folded = await fold.textContent();
      assert.match(folded, /^Call Trace and Mem-Info \(\d+ lines\)/);
      assert.match(folded, /Call Trace:\n\[ *[\d.]+\]  warn_alloc_failed\+0x0\/0x0\n/);
      assert.match(folded, /__kmalloc_node_track_caller\+0x0\/0x0/);
      assert.match(folded, /Mem-Info:\n.*active_anon:\d+/);
      assert.match(folded, /Node 0 Normal free:\d+kB min:5792kB low:7240kB high:8688kB/);
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.screenshot({ path: screenshotPath('kernel-log-swap-over-nbd-linux-3.5') });
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('an exited task says it has no kernel stack instead of an empty table', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=swap-over-nbd&task=reader0');
    try {
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'completed');
      assert.equal(await page.$eval('#selected-task', (el) => el.textContent), 'reader0');
      const rows = await page.$$eval('#stack-frames tbody tr', (trs) => trs.map((r) => r.textContent));
      assert.deepEqual(rows, ['no kernel stack: not running in the kernel']);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('direct-reclaim-writepage-xfs under linux-2.6.33: the stack that overflowed', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=direct-reclaim-writepage-xfs&p=linux-2.6.33');
    try {
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'stack_overflow');
      const frames = await page.$$eval('#stack-frames tbody tr', (rows) => rows.map((r) => r.textContent));
      const text = frames.join('\n');
      assert.ok(text.includes('xfs_vm_writepage'), text);
      assert.ok(text.includes('mempool_alloc_slab'), text);
      assert.ok(/seeded\)/.test(frames[0]), `deepest frame: ${frames[0]}`);
      assert.ok(text.includes('THREAD_SIZE'), text);
      assert.ok(!text.includes('reclaim → ->writepage path'), 'no single estimated row any more');
      await page.screenshot({ path: screenshotPath('stack-overflow-xfs') });
      await page.click('#tab-klog');
      const klog = await page.$eval('#kernel-log', (el) => el.textContent);
      assert.ok(klog.includes('BUG: stack guard page was hit'), klog);
      assert.ok(klog.includes('xfs_vm_writepage') && klog.includes('seeded)'), klog);
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('a deadlock shows the stack of the task where its wait-for cycle closes', async () => {
    // oom-victim-mempool under linux-4.5: the victim (the reader) sleeps in mempool_alloc
    // for clones only it can free; its kcryptd is idle and not the story.
    const { context, page, errors } = await openApp(browser, '/?s=oom-victim-mempool&p=linux-4.5');
    try {
      await key(page, 'End');
      assert.equal(await waitOutcome(page), 'deadlocked');
      assert.equal(await page.$eval('#selected-task', (el) => el.textContent), 'reader');
      const frames = await page.$$eval('#stack-frames tbody td.fn', (tds) => tds.map((td) => td.textContent));
      assert.ok(frames.includes('mempool_alloc'), frames.join(' '));
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });
});
