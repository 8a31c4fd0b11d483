'use strict';
// The app's skeleton UI contract, checked in headless Chromium against dist/ served by
// scripts/test.sh (PL_BASE_URL). The app is expected to start paused.
//   canvas#timeline  drawn (more than one colour)
//   #sim-time        data-tick = current simulated tick (integer, 1 tick = 1 ms)
//   #btn-step        advances data-tick by exactly 1
//   #btn-play        toggles play/pause
//   #kswapd-state    non-empty text
// Only condition waits (waitForSelector / waitForFunction), never fixed sleeps.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  launchBrowser,
  openPage,
  screenshotPath,
  waitFrames,
  canvasColourCount,
  assertNoErrors,
} = require('./helpers.cjs');

// Generous: the first wasm compile on a loaded 2-core CI machine can take a while.
const APP_TIMEOUT = 30_000;
const WAIT = 15_000;

const readTick = (page) =>
  page.$eval('#sim-time', (el) => {
    const raw = el.getAttribute('data-tick');
    return /^\d+$/.test(raw || '') ? Number(raw) : raw;
  });

describe('skeleton UI', { timeout: 120_000 }, () => {
  let browser;
  let context;
  let page;
  let errors;

  before(async () => {
    browser = await launchBrowser();
    ({ context, page, errors } = await openPage(browser));
    // The app is up once Yew has mounted its main pieces.
    await page.waitForSelector('canvas#timeline', { timeout: APP_TIMEOUT });
    await page.waitForSelector('#sim-time[data-tick]', { timeout: WAIT });
  });

  after(async () => {
    if (page) {
      await page.screenshot({ path: screenshotPath('skeleton'), fullPage: true }).catch((err) => {
        console.error(`screenshot failed: ${err}`);
      });
    }
    if (context) await context.close();
    if (browser) await browser.close();
  });

  it('loads without console errors or page errors', async () => {
    await waitFrames(page, 2);
    assertNoErrors(errors);
  });

  it('draws the timeline canvas (not blank)', async () => {
    await page.waitForFunction(
      () => {
        const c = document.querySelector('canvas#timeline');
        return c && c.width > 0 && c.height > 0;
      },
      null,
      { timeout: WAIT },
    );
    // Wait until something is drawn, then assert (so a failure reports the colour count).
    await page
      .waitForFunction(
        () => {
          const c = document.querySelector('canvas#timeline');
          const s = document.createElement('canvas');
          s.width = c.width;
          s.height = c.height;
          const ctx = s.getContext('2d');
          ctx.drawImage(c, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          for (let i = 4; i < d.length; i += 4) {
            if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) return true;
          }
          return false;
        },
        null,
        { timeout: WAIT },
      )
      .catch(() => {});
    const colours = await canvasColourCount(page, 'canvas#timeline');
    assert.ok(colours > 1, `canvas#timeline looks blank: ${colours} distinct colour(s)`);
  });

  it('#sim-time has an integer data-tick', async () => {
    const tick = await readTick(page);
    assert.equal(typeof tick, 'number', `data-tick is not a non-negative integer: ${JSON.stringify(tick)}`);
  });

  it('#kswapd-state shows non-empty text', async () => {
    const text = await page.$eval('#kswapd-state', (el) => el.textContent.trim());
    assert.notEqual(text, '', '#kswapd-state is empty');
  });

  it('#btn-step advances data-tick by exactly 1', async () => {
    const t0 = await readTick(page);
    await waitFrames(page, 2);
    assert.equal(await readTick(page), t0, 'data-tick moves on its own: the app should start paused');

    await page.click('#btn-step');
    await page.waitForFunction(
      (prev) => document.querySelector('#sim-time').getAttribute('data-tick') !== String(prev),
      t0,
      { timeout: WAIT },
    );
    assert.equal(await readTick(page), t0 + 1, 'one step should advance exactly one tick');
    // ...and it stays there.
    await waitFrames(page, 2);
    assert.equal(await readTick(page), t0 + 1, 'data-tick kept moving after a single step');
  });

  it('#btn-play runs the simulation and a second click pauses it', async () => {
    const t0 = await readTick(page);
    await page.click('#btn-play');
    await page.waitForFunction(
      (prev) => Number(document.querySelector('#sim-time').getAttribute('data-tick')) > prev + 10,
      t0,
      { timeout: WAIT },
    );

    await page.click('#btn-play');
    // Let the pause take effect (a frame may already be in flight), then it must hold still.
    await waitFrames(page, 2);
    const a = await readTick(page);
    await waitFrames(page, 2);
    const b = await readTick(page);
    assert.equal(b, a, `data-tick still moving after pause: ${a} -> ${b}`);
  });

  it('no console or page errors after interacting', () => {
    assertNoErrors(errors);
  });
});
