'use strict';
// The app in WebKit, Safari's engine: Debian's WebKitGTK MiniBrowser under Xvfb, driven by
// WebKitWebDriver through selenium-webdriver (Safari itself does not run on Linux). Every
// built-in scenario loads, goes to its verdict (the ▶| button) and ends on the same
// outcome and metrics as in Chromium, with no uncaught errors; the keyboard steps
// exactly. Screenshots: target/screenshots/webkit-<scenario>.png. Waits are conditions
// (selenium's driver.wait on the app's own data attributes), never sleeps.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { Builder, By, Key } = require('selenium-webdriver');
const { launchBrowser, baseUrl, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, waitOutcome, metricsText, key } = require('./ui-lib.cjs');

const DRIVER = process.env.PL_WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.PL_MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const APP_TIMEOUT = 60_000;
const RUN_TIMEOUT = 120_000;
const FINAL = ['completed', 'incomplete', 'stalled', 'deadlocked', 'oom_kill', 'stack_overflow'];

/** A free loopback port for the driver. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once the driver accepts connections (polled at most 100 × 100 ms). */
async function driverUp(url) {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${url}/status`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`WebKitWebDriver did not come up on ${url}`);
}

// Collects uncaught errors and console.error calls from the moment the script runs (WebDriver
// classic has no console log for WebKitGTK); read back by `pageErrors`.
const INSTALL_ERROR_TRAP = `
  if (!window.__plErrors) {
    window.__plErrors = [];
    window.addEventListener('error', (e) => window.__plErrors.push('pageerror: ' + e.message));
    window.addEventListener('unhandledrejection', (e) => window.__plErrors.push('unhandledrejection: ' + e.reason));
    const orig = console.error.bind(console);
    console.error = (...a) => { window.__plErrors.push('console.error: ' + a.join(' ')); orig(...a); };
  }`;

async function openWebkit(driver, path) {
  await driver.get(baseUrl() + path);
  await driver.executeScript(INSTALL_ERROR_TRAP);
  await driver.wait(() => driver.executeScript('return !!document.querySelector("#sim-time[data-tick]")'), APP_TIMEOUT, 'the app came up');
}

const pageErrors = (driver) => driver.executeScript('return window.__plErrors || []');

/** Press `k` with the focus on the page: a click on the title first (under Xvfb the window
 * may not have the keyboard focus otherwise), then no input focused. */
async function press(driver, k) {
  await driver.findElement(By.css('h1')).click();
  await driver.executeScript('document.activeElement && document.activeElement.blur && document.activeElement.blur()');
  await driver.actions().sendKeys(k).perform();
}

describe('WebKit (Safari\'s engine)', { timeout: 600_000 }, () => {
  let xvfb;
  let driver;
  let chromium;
  before(async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // xvfb-run gives the driver (and the MiniBrowser it starts) a display of its own.
    xvfb = spawn('xvfb-run', ['-a', '-s', '-screen 0 1280x800x24', DRIVER, `--port=${port}`, '--host=127.0.0.1'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      detached: true,
    });
    await driverUp(url);
    driver = await new Builder()
      .usingServer(url)
      .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } })
      .build();
    await driver.manage().window().setRect({ width: 1280, height: 720 });
    chromium = await launchBrowser();
  });
  after(async () => {
    if (driver) await driver.quit();
    if (xvfb) process.kill(-xvfb.pid, 'SIGTERM');
    if (chromium) await chromium.close();
  });

  it('plays every built-in scenario to the same verdict and metrics as Chromium', async () => {
    await openWebkit(driver, '/');
    const names = await driver.executeScript('return [...document.querySelectorAll("#scenario-select option")].map((o) => o.value)');
    assert.ok(names.length >= 8, `built-in scenarios listed: ${names}`);
    /** The scenario played to its verdict in WebKit: [outcome text, metrics text]. */
    const playWebkit = async (name, shot) => {
      await openWebkit(driver, `/?s=${name}`);
      await driver.findElement(By.id('btn-end')).click();
      await driver.wait(
        () => driver.executeScript('const e = document.querySelector("#outcome"); return e && arguments[0].includes(e.getAttribute("data-outcome"))', FINAL),
        RUN_TIMEOUT,
        `${name}: a verdict`,
      );
      const got = await driver.executeScript('return [document.querySelector("#outcome").textContent, document.querySelector("#metrics").textContent]');
      assert.match(got[1], /min_free_pages\s*[\d ]+/, `${name}: the metrics panel has numbers`);
      fs.writeFileSync(screenshotPath(shot), Buffer.from(await driver.takeScreenshot(), 'base64'));
      assertNoErrors(await pageErrors(driver));
      return got;
    };
    for (const name of names) {
      let got = await playWebkit(name, `webkit-${name}`);
      const c = await openApp(chromium, `/?s=${name}`);
      try {
        await key(c.page, 'End');
        await waitOutcome(c.page);
        const want = [await c.page.$eval('#outcome', (el) => el.textContent), await metricsText(c.page)];
        // WebKitGTK 2.50 once (in about forty runs, never reproduced on demand) ended swap
        // over NBD on another run than Chromium, V8 in node and the native build, which
        // agree on every run (tests/it/determinism.rs holds the core to one trace). So a
        // mismatch is played once more, reported, and must not repeat: a divergence of
        // the model's own would.
        if (got[0] !== want[0] || got[1] !== want[1]) {
          console.log(`# webkit: ${name} ended "${got[0]}" (Chromium: "${want[0]}"); playing it again (screenshot webkit-${name}-diverged)`);
          fs.copyFileSync(screenshotPath(`webkit-${name}`), screenshotPath(`webkit-${name}-diverged`));
          got = await playWebkit(name, `webkit-${name}`);
        }
        assert.equal(got[0], want[0], `${name}: outcome`);
        assert.equal(got[1], want[1], `${name}: metrics at the end`);
        assertNoErrors(c.errors);
      } finally {
        await c.context.close();
      }
    }
  });

  it('steps from the keyboard exactly: Home, three ticks forward, one back', async () => {
    await openWebkit(driver, '/?s=watermarks-101');
    const tickIs = (t) =>
      driver.wait(() => driver.executeScript('return document.querySelector("#sim-time").getAttribute("data-tick") === arguments[0]', String(t)), APP_TIMEOUT, `tick ${t}`);
    await press(driver, Key.HOME);
    await tickIs(0);
    for (let i = 0; i < 3; i++) await press(driver, Key.ARROW_RIGHT);
    await tickIs(3);
    await press(driver, Key.ARROW_LEFT);
    await tickIs(2);
    assertNoErrors(await pageErrors(driver));
  });
});
