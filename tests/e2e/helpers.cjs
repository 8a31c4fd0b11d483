'use strict';
// Shared helpers for the end-to-end tests (node --test tests/e2e/).
// CommonJS on purpose: simplest way to load playwright-core from the repo's node_modules.
// Not a test file itself: node --test only picks up *.test.cjs and the like.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SCREENSHOT_DIR = path.join(REPO_ROOT, 'target', 'screenshots');

// Debian's Chromium (apt): playwright's own browser download cannot work on this machine.
const CHROMIUM = process.env.PL_CHROMIUM || '/usr/bin/chromium';
// Flags that work as root here (shared/reference/toolchain.md). The background-networking
// ones stop Chromium from flooding the closed network. No --user-data-dir: playwright
// refuses it in launch() and already gives every launch a fresh temporary profile.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The served app's base URL, without trailing slash; scripts/test.sh sets PL_BASE_URL. */
function baseUrl() {
  const url = process.env.PL_BASE_URL;
  if (!url) {
    throw new Error('PL_BASE_URL is not set: run scripts/test.sh, or serve dist/ and set it');
  }
  return url.replace(/\/+$/, '');
}

/** Launch headless Chromium with the flags above. */
function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Open `urlPath` (relative to the base URL) in a fresh context and collect every console
 * error and uncaught page error in `errors` from before the first byte loads.
 * Returns { context, page, errors }; close the context when done.
 */
async function openPage(browser, urlPath = '/', { viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const loc = msg.location();
      errors.push(`console.error: ${msg.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    }
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.stack || err.message || err}`));
  await page.goto(baseUrl() + urlPath, { waitUntil: 'load' });
  return { context, page, errors };
}

/** Path for a screenshot named `name` (.png added) under target/screenshots/, dir created. */
function screenshotPath(name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, name.endsWith('.png') ? name : `${name}.png`);
}

/** Resolve after the page has rendered `count` more animation frames (a condition wait). */
async function waitFrames(page, count = 2, timeout = 10_000) {
  await page.waitForFunction(
    (n) =>
      new Promise((resolve) => {
        const tick = (left) => (left === 0 ? resolve(true) : requestAnimationFrame(() => tick(left - 1)));
        tick(n);
      }),
    count,
    { timeout },
  );
}

/**
 * Number of distinct colours in a canvas (sampled on a grid of at most ~40k pixels), read
 * by copying it to a scratch 2d canvas so this works whatever context the app draws with.
 * Returns -1 if there is no such canvas or it has no area.
 */
async function canvasColourCount(page, selector) {
  return page.evaluate((sel) => {
    const canvas = document.querySelector(sel);
    if (!canvas || !canvas.width || !canvas.height) return -1;
    const scratch = document.createElement('canvas');
    scratch.width = canvas.width;
    scratch.height = canvas.height;
    const ctx = scratch.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const stride = Math.max(1, Math.floor(Math.sqrt((canvas.width * canvas.height) / 40000)));
    const colours = new Set();
    for (let y = 0; y < canvas.height; y += stride) {
      for (let x = 0; x < canvas.width; x += stride) {
        const i = (y * canvas.width + x) * 4;
        colours.add((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]);
      }
    }
    return colours.size;
  }, selector);
}

/** Fail with every collected console/page error listed. */
function assertNoErrors(errors) {
  assert.deepStrictEqual(errors, [], `console/page errors:\n${errors.join('\n')}`);
}

module.exports = {
  REPO_ROOT,
  CHROMIUM,
  CHROMIUM_ARGS,
  baseUrl,
  launchBrowser,
  openPage,
  screenshotPath,
  waitFrames,
  canvasColourCount,
  assertNoErrors,
};
