'use strict';
// Time is exact: step then step back, a seek and a straight play all land on the same
// numbers (the app restores the nearest snapshot and replays).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, assertNoErrors } = require('./helpers.cjs');
const { openApp, waitTick, metricsText, key, jumpTo } = require('./ui-lib.cjs');

describe('exact time travel', { timeout: 120_000 }, () => {
  let browser;
  let opened;
  before(async () => {
    browser = await launchBrowser();
    opened = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.7&t=5');
    await waitTick(opened.page, 5000);
  });
  after(async () => {
    if (opened) await opened.context.close();
    if (browser) await browser.close();
  });

  it('step then step back gives identical metrics text', async () => {
    const { page } = opened;
    const before5000 = await metricsText(page);
    await page.click('#btn-step');
    await waitTick(page, 5001);
    const at5001 = await metricsText(page);
    await page.click('#btn-step-back');
    await waitTick(page, 5000);
    assert.equal(await metricsText(page), before5000);
    // Arrow keys do the same.
    await key(page, 'ArrowRight');
    await waitTick(page, 5001);
    assert.equal(await metricsText(page), at5001);
    await key(page, 'ArrowLeft');
    await waitTick(page, 5000);
    assert.equal(await metricsText(page), before5000);
  });

  it('a far seek and back lands on the same numbers', async () => {
    const { page } = opened;
    const here = await metricsText(page);
    await jumpTo(page, 31.7);
    await jumpTo(page, 5);
    assert.equal(await metricsText(page), here);
    assertNoErrors(opened.errors);
  });
});
