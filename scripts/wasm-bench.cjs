'use strict';
// Driver of scripts/wasm-bench.sh (see there). node wasm-bench.cjs MODULE [--scenarios a,b@preset]
// [--runs N] [--count]; with --inner NAME MODE N it only runs NAME N times (for --count).
const { spawnSync } = require('node:child_process');

const [modulePath, ...args] = process.argv.slice(2);
const bench = require(require('node:path').resolve(modulePath));
const opt = (flag, dflt) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : dflt;
};
const MODES = { core: false, recording: true };

if (args[0] === '--inner') {
  const [, name, mode, n] = args;
  for (let i = 0; i < Number(n); i++) bench.run(name, MODES[mode]);
  process.exit(0);
}

const known = bench.names().split(',');
const names = opt('--scenarios', known.join(',')).split(',');
for (const n of names) {
  // NAME or NAME@PRESET (a preset the run computes under, as a toggle does).
  if (!known.includes(n.split('@')[0])) fail(`--scenarios: '${n}' is not a built-in scenario (optionally @preset); allowed: ${known.join(', ')}`);
}
const runs = Number(opt('--runs', 15));
if (!Number.isInteger(runs) || runs < 4 || runs > 200) fail(`--runs: '${opt('--runs')}' is not allowed; allowed: 4..=200`);
const count = args.includes('--count');

function fail(message) {
  console.error(`wasm-bench: ${message}`);
  process.exit(2);
}

/** Instructions of `mode` per run: valgrind's total for 7 runs minus that for 3, over 4. */
function instructionsPerRun(name, mode) {
  const refs = (n) => {
    const cmd = ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath,
      '--single-threaded', '--no-liftoff', __filename, modulePath, '--inner', name, mode, String(n)];
    const run = spawnSync('valgrind', cmd, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    const m = /I\s+refs:\s+([\d,]+)/.exec(run.stderr || '');
    if (run.status !== 0 || !m) {
      throw new Error(`valgrind gave no instruction count for ${name} ${mode}:\n${run.stderr}`);
    }
    return Number(m[1].replace(/,/g, ''));
  };
  return (refs(7) - refs(3)) / 4;
}

const pad = (s, n) => String(s).padStart(n);
if (count) {
  console.log(`${'scenario'.padEnd(30)} ${pad('core Minstr', 12)} ${pad('recording Minstr', 17)}`);
} else {
  console.log(`${'scenario'.padEnd(30)} ${pad('ticks', 12)} ${pad('core best/median ms', 20)} ${pad('recording best/median ms', 25)} ${pad('factor', 8)}`);
}
for (const name of names) {
  if (count) {
    const [c, r] = Object.keys(MODES).map((m) => (instructionsPerRun(name, m) / 1e6).toFixed(1));
    console.log(`${name.padEnd(30)} ${pad(c, 12)} ${pad(r, 17)}`);
    continue;
  }
  const cells = {};
  let ticks = 0;
  for (const [mode, record] of Object.entries(MODES)) {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      ticks = Number(bench.run(name, record));
      times.push(performance.now() - t0);
    }
    // The first runs include tier-up to TurboFan: left out.
    const kept = times.slice(3).sort((a, b) => a - b);
    cells[mode] = [kept[0], kept[Math.floor(kept.length / 2)]];
  }
  const f = (c) => `${c[0].toFixed(1)} / ${c[1].toFixed(1)}`;
  const factor = `${Math.round(ticks / cells.recording[0])}x`;
  console.log(`${name.padEnd(30)} ${pad(ticks, 12)} ${pad(f(cells.core), 20)} ${pad(f(cells.recording), 25)} ${pad(factor, 8)}`);
}
