'use strict';
// Helpers shared by the ui-*.test.cjs end-to-end tests (not a test file itself).
// Condition waits only: every wait is waitForFunction/waitForSelector on app state.

const { openPage } = require('./helpers.cjs');

const APP_TIMEOUT = 30_000;
const RUN_TIMEOUT = 60_000;
const OUTCOMES = ['completed', 'incomplete', 'stalled', 'deadlocked', 'oom_kill', 'stack_overflow'];

/** Open `path` at 1280×720 (the projector size) and wait until the app is up. */
async function openApp(browser, path = '/') {
  const opened = await openPage(browser, path, { viewport: { width: 1280, height: 720 } });
  await opened.page.waitForSelector('#sim-time[data-tick]', { timeout: APP_TIMEOUT });
  return opened;
}

const tick = (page) => page.$eval('#sim-time', (el) => Number(el.getAttribute('data-tick')));

/** Wait until the cursor stands at `t`. */
async function waitTick(page, t, timeout = RUN_TIMEOUT) {
  await page.waitForFunction((want) => document.querySelector('#sim-time').getAttribute('data-tick') === String(want), t, { timeout });
}

/** Type `seconds` into the jump-to-time box, press Enter, wait until the cursor is there. */
async function jumpTo(page, seconds) {
  await page.fill('#jump-time', String(seconds));
  await page.press('#jump-time', 'Enter');
  await waitTick(page, Math.round(seconds * 1000));
}

/** Wait until `selector`'s data-outcome is a final outcome (the cursor at the run's end). */
async function waitOutcome(page, selector = '#outcome', timeout = RUN_TIMEOUT) {
  await page.waitForFunction(
    ([sel, outcomes]) => {
      const el = document.querySelector(sel);
      return el && outcomes.includes(el.getAttribute('data-outcome'));
    },
    [selector, OUTCOMES],
    { timeout },
  );
  return page.$eval(selector, (el) => el.getAttribute('data-outcome'));
}

/** The metrics panel's text at the cursor (present whatever tab is open). */
const metricsText = (page) => page.$eval('#metrics', (el) => el.textContent);

/** Press a key with the focus on the page body (not in an input). */
async function key(page, k) {
  await page.evaluate(() => document.activeElement && document.activeElement.blur && document.activeElement.blur());
  await page.keyboard.press(k);
}

module.exports = { APP_TIMEOUT, RUN_TIMEOUT, OUTCOMES, openApp, tick, waitTick, jumpTo, waitOutcome, metricsText, key };
