#!/usr/bin/env bash
# scripts/wasm-bench.sh: the browser's compute path timed in V8 (node), without the page.
#
#   scripts/wasm-bench.sh                      every built-in scenario: 15 runs, the first 3
#                                              left out, best and median of the rest
#   scripts/wasm-bench.sh --scenarios swap-over-nbd,dm-crypt-swap --runs 25
#   scripts/wasm-bench.sh --count              instructions per run instead (needs valgrind)
#   scripts/wasm-bench.sh --scenarios swap-over-nbd@linux-3.5   under a preset (a toggle's run)
#
# It builds crates/wasm-bench with the browser's cargo profile (wasm-release) and the same
# wasm-opt flags as index.html, so what it measures is what the page runs. "core" is the
# simulation alone, "recording" what a pane computes (core plus the UI's Recording).
# Wall times on a shared host vary by 2x between minutes; --count is deterministic (V8
# compiles every function with TurboFan up front, one thread, under valgrind; the count of
# 3 runs is subtracted from that of 7, leaving four runs without start-up or compile).
# Results and the command go in BENCHMARKS.md ("In V8").

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PL_SETUP_SKIP_BROWSER=1
# shellcheck source=scripts/setup.sh
. scripts/setup.sh >/dev/null

out=target/wasm-bench
mkdir -p "$out"
echo "wasm-bench: building crates/wasm-bench (profile wasm-release, wasm32)" >&2
cargo build -q -p pressure-lab-wasm-bench --profile wasm-release --target wasm32-unknown-unknown
wasm-bindgen --target nodejs --out-dir "$out" \
    "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm-release/pressure_lab_wasm_bench.wasm"
# index.html's data-wasm-opt level and params: one place decides how the page is optimised.
level=$(sed -n 's/.*data-wasm-opt="\([^"]*\)".*/\1/p' index.html)
params=$(sed -n 's/.*data-wasm-opt-params="\([^"]*\)".*/\1/p' index.html)
[[ -n $level ]] || { echo "wasm-bench: no data-wasm-opt in index.html" >&2; exit 1; }
# shellcheck disable=SC2086 # params is a list of flags
wasm-opt "-O$level" $params "$out/pressure_lab_wasm_bench_bg.wasm" -o "$out/opt.wasm"
mv "$out/opt.wasm" "$out/pressure_lab_wasm_bench_bg.wasm"
if [[ " $* " == *" --count "* ]] && ! command -v valgrind >/dev/null; then
    echo "wasm-bench: --count needs valgrind (Debian: apt-get install valgrind)" >&2
    exit 1
fi
exec node scripts/wasm-bench.cjs "$out/pressure_lab_wasm_bench.js" "$@"
