'use strict';
// The PNG export, as a teacher making a slide uses it: the picture must say by itself what
// the screen said around the canvas — a caption (scenario · policy · time), the legend, and
// the cursor at the current time — and in predict mode it must not give the future away.
// Every property is checked against the on-screen canvas, which has none of them (paired).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { launchBrowser, screenshotPath, assertNoErrors } = require('./helpers.cjs');
const { openApp, jumpTo, waitTick, key } = require('./ui-lib.cjs');

// src/charts: the palette's `FREE` and `INK`, and the plot area's left and right margins.
const FREE = [0x00, 0x9e, 0x73];
const INK = [0x22, 0x22, 0x22];
const LEFT_PX = 96;
const RIGHT_PX = 12;

/** Click "PNG" and return the download: its file name and its bytes as a data: URL. */
async function exportPng(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#btn-png')]);
  const file = await download.path();
  const bytes = fs.readFileSync(file);
  return { name: download.suggestedFilename(), url: `data:image/png;base64,${bytes.toString('base64')}` };
}

/**
 * Measure a picture (a data: URL, or null for the on-screen canvas `canvasId`) in the page:
 * its size; pixels of the free curve's colour in the bottom `legendPx` rows (the legend's
 * sample line); rows where column `cursorX` is the cursor's ink; free-coloured pixels right
 * of `cursorX` above the legend (curves after the cursor). `top` is where the plot starts.
 */
async function measure(page, { url, canvasId, cursorX, top, legendPx }) {
  return page.evaluate(
    async ({ url, canvasId, cursorX, top, legendPx, FREE, INK }) => {
      let source = document.getElementById(canvasId);
      if (url) {
        source = new Image();
        source.src = url;
        await source.decode();
      }
      const w = source.naturalWidth || source.width;
      const h = source.naturalHeight || source.height;
      const scratch = document.createElement('canvas');
      scratch.width = w;
      scratch.height = h;
      const ctx = scratch.getContext('2d');
      ctx.drawImage(source, 0, 0);
      const { data } = ctx.getImageData(0, 0, w, h);
      const is = (x, y, [r, g, b]) => {
        const i = (y * w + x) * 4;
        return Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8;
      };
      let legendFree = 0;
      for (let y = h - legendPx; y < h; y++) for (let x = 0; x < w; x++) if (is(x, y, FREE)) legendFree++;
      let cursorRows = 0;
      for (let y = top; y < h - legendPx; y++) if ([-1, 0, 1].some((d) => is(cursorX + d, y, INK))) cursorRows++;
      let freeAfterCursor = 0;
      for (let y = top; y < h - legendPx; y++) for (let x = cursorX + 4; x < w; x++) if (is(x, y, FREE)) freeAfterCursor++;
      return { w, h, legendFree, cursorRows, freeAfterCursor };
    },
    { url, canvasId, cursorX, top, legendPx, FREE, INK },
  );
}

/** The on-screen canvas's pixel size and the cursor's x in it at tick `t` of `end`. */
async function layout(page, canvasId, t, end) {
  const { w, h } = await page.$eval(`#${canvasId}`, (c) => ({ w: c.width, h: c.height }));
  return { w, h, cursorX: LEFT_PX + Math.round(((w - LEFT_PX - RIGHT_PX) * t) / end) };
}

/**
 * The picture's size against the on-screen canvas `shown`: as wide, taller by the caption's
 * row and one or more legend rows (2 × font each). Returns the legend rows' height.
 */
async function legendRows(page, url, shown, font) {
  const { w, h } = await measure(page, { url, cursorX: 0, top: 0, legendPx: 0 });
  assert.equal(w, shown.w);
  const legendPx = h - shown.h - 2 * font;
  assert.ok(legendPx >= 2 * font && legendPx % (2 * font) === 0, `legend rows ${legendPx} px at ${font} px type`);
  return legendPx;
}

describe('PNG export', { timeout: 240_000 }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  it('the picture has a caption, the legend and the cursor; the screen keeps its canvas', async () => {
    const { context, page, errors } = await openApp(browser, '/?s=dm-crypt-swap&p=linux-4.7');
    try {
      // To the end first, so the whole run is computed and drawn, then back to 20 s.
      const end = 60_000; // dm-crypt-swap's duration_ms
      await key(page, 'End');
      await waitTick(page, end);
      await jumpTo(page, 20);
      const shown = await layout(page, 'timeline', 20_000, end);
      const png = await exportPng(page);
      assert.equal(png.name, 'pressure-lab-timeline.png');
      const font = 13; // src/ui/timeline.rs font_px, single view
      const legendPx = await legendRows(page, png.url, shown, font);
      const pic = await measure(page, { url: png.url, cursorX: shown.cursorX, top: 3 * font, legendPx });
      const screen = await measure(page, { canvasId: 'timeline', cursorX: shown.cursorX, top: font, legendPx: 2 * font });
      assert.equal(pic.w, shown.w);
      // The legend's free sample: in the picture's bottom rows, not in the screen's (whose
      // bottom rows are the x axis labels).
      assert.ok(pic.legendFree >= 18, `legend sample line: ${pic.legendFree} free pixels`);
      assert.equal(screen.legendFree, 0);
      // The cursor: a line of ink down the plot at 20 s in the picture; on screen it is an
      // HTML element over the canvas.
      assert.ok(pic.cursorRows > (shown.h - 3 * font) / 2, `cursor rows: ${pic.cursorRows}`);
      assert.ok(screen.cursorRows < pic.cursorRows / 4, `screen cursor rows: ${screen.cursorRows}`);
      // The whole run is drawn (no predict mode): curves after the cursor too.
      assert.ok(pic.freeAfterCursor > 0);
      // Exporting leaves the on-screen canvas as it was.
      assert.deepEqual(await page.$eval('#timeline', (c) => [c.width, c.height]), [shown.w, shown.h]);
      fs.writeFileSync(screenshotPath('export-dm-crypt-swap-linux-4.7-20s'), Buffer.from(png.url.split(',')[1], 'base64'));
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });

  it('in predict mode the picture of a compare pane stops at the cursor, as the pane does', async () => {
    const path = '/?s=dm-crypt-swap&cmp=linux-4.7,linux-4.7%2Bneilbrown';
    const { context, page, errors } = await openApp(browser, `${path}&predict=1`);
    try {
      const end = 60_000;
      await key(page, 'End');
      await waitTick(page, end);
      await jumpTo(page, 10);
      const shown = await layout(page, 'timeline-0', 10_000, end);
      const font = 12; // compact panes
      const first = await exportPng(page);
      const args = { cursorX: shown.cursorX, top: 3 * font, legendPx: await legendRows(page, first.url, shown, font) };
      const hidden = await measure(page, { url: first.url, ...args });
      fs.writeFileSync(screenshotPath('export-compare-predict-10s'), Buffer.from(first.url.split(',')[1], 'base64'));
      assert.equal(hidden.freeAfterCursor, 0, 'no free curve after the cursor while the outcome is hidden');
      assert.ok(hidden.cursorRows > 0);
      // Revealed, the same pane's picture shows the rest of the run.
      await page.click('#btn-reveal');
      await page.waitForFunction(() => document.querySelector('.pane .outcome').dataset.outcome !== 'hidden');
      const revealed = await measure(page, { url: (await exportPng(page)).url, ...args });
      assert.ok(revealed.freeAfterCursor > 0, 'after the reveal the curves go on');
      assertNoErrors(errors);
    } finally {
      await context.close();
    }
  });
});
