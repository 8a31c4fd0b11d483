'use strict';
// Keyboard-only operation: every shortcut of the help overlay works without a mouse, and
// every control is labelled for screen readers.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, tick, waitTick, waitOutcome, key } = require('./ui-lib.cjs');

describe('keyboard only', { timeout: 180_000 }, () => {
  let browser;
  let opened;
  before(async () => {
    browser = await launchBrowser();
    opened = await openApp(browser, '/?s=dm-crypt-swap');
  });
  after(async () => {
    if (opened) await opened.context.close();
    if (browser) await browser.close();
  });

  it('every button and field has an accessible name', async () => {
    const unnamed = await opened.page.$$eval('button, select, input', (els) =>
      els.filter((e) => !(e.getAttribute('aria-label') || (e.labels && e.labels.length) || e.textContent.trim())).map((e) => e.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
  });

  it('Space, arrows, Shift+arrows, Home/End, PageUp/PageDown, ?, p, c', async () => {
    const { page, errors } = opened;
    await key(page, ' ');
    await page.waitForFunction(() => Number(document.querySelector('#sim-time').dataset.tick) > 50, null, { timeout: 15_000 });
    await key(page, ' ');
    await page.waitForFunction(() => document.querySelector('#btn-play').getAttribute('aria-pressed') === 'false');
    await key(page, 'Home');
    await waitTick(page, 0);
    await key(page, 'ArrowRight');
    await waitTick(page, 1);
    await key(page, 'ArrowLeft');
    await waitTick(page, 0);
    await key(page, 'Shift+ArrowRight');
    await page.waitForFunction(() => Number(document.querySelector('#sim-time').dataset.tick) > 0);
    const ev = await tick(page);
    await key(page, 'PageDown');
    await page.waitForFunction((t) => Number(document.querySelector('#sim-time').dataset.tick) > t, ev);
    const chapter = await page.$eval('#narration', (el) => el.textContent);
    assert.match(chapter, /Chapter \d\/\d/);
    await key(page, 'End');
    await waitOutcome(page);
    await key(page, 'PageUp');
    // Off the end, no final outcome: running, or the stall found so far (dm-crypt-swap's
    // default stalls at 2.53 s and its run goes on).
    await page.waitForFunction(() => ['running', 'stalled_so_far'].includes(document.querySelector('#outcome').dataset.outcome));
    await key(page, '?');
    await page.waitForSelector('#help');
    await page.screenshot({ path: screenshotPath('help-overlay') });
    await key(page, 'Escape');
    await page.waitForSelector('#help', { state: 'detached' });
    await key(page, 'p');
    await page.waitForSelector('.app.presenter');
    await page.screenshot({ path: screenshotPath('presenter-dm-crypt-swap') });
    await key(page, 'p');
    await page.waitForSelector('.app:not(.presenter)');
    await key(page, 'c');
    await page.waitForSelector('canvas#timeline-1');
    await key(page, 'c');
    await page.waitForSelector('canvas#timeline');
    // Tab reaches the play button; Space on it toggles play once (not twice).
    await page.focus('#btn-play');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#btn-play').getAttribute('aria-pressed') === 'true');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#btn-play').getAttribute('aria-pressed') === 'false');
    assertNoErrors(errors);
  });
});
