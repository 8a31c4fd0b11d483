#!/usr/bin/env bash
# scripts/test.sh: install what is missing, then run every test of Pressure Lab, stopping at
# the first failing step with its exit code (non-zero):
#   fmt check, clippy (native and wasm32), cargo test (native), the PGO-built CLI's bench,
#   wasm-bindgen tests in headless Chromium,
#   trunk release build, end-to-end tests (node --test + playwright-core) against dist/
#   served by a plain static server (trunk serve would inject its autoreload script).
# Runs the same with or without CI set. Per-step timings are printed at the end.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh

PL_TIMINGS=()
PL_PASSED=0
PL_SERVER_PID=

# step NAME COMMAND...: run one step, time it, stop the whole run if it fails.
# (Inside `cmd || rc=$?` bash ignores set -e, so the step functions below check each
# command themselves.)
step() {
    local name=$1 start rc=0
    shift
    printf '\n==> %s\n' "$name"
    start=$SECONDS
    "$@" || rc=$?
    PL_TIMINGS+=("$(printf '%5d s  %s' $((SECONDS - start)) "$name")")
    if ((rc != 0)); then
        printf '\n==> FAILED: %s (exit %d)\n' "$name" "$rc" >&2
        exit "$rc"
    fi
    PL_PASSED=$((PL_PASSED + 1))
}

# Always stop the static server and print the timings, whichever way the run ends.
finish() {
    local rc=$?
    if [[ -n $PL_SERVER_PID ]]; then
        kill "$PL_SERVER_PID" 2>/dev/null || true
        wait "$PL_SERVER_PID" 2>/dev/null || true
    fi
    if ((${#PL_TIMINGS[@]})); then
        printf '\nStep timings:\n'
        printf '  %s\n' "${PL_TIMINGS[@]}"
    fi
    # Plain closing line: every step is a whole suite (cargo test, node --test, ...).
    echo "steps: $PL_PASSED passed, $((rc == 0 ? 0 : 1)) failed"
}
trap finish EXIT
# A signal should still run finish (via exit) and leave a failing code.
trap 'exit 130' INT
trap 'exit 143' TERM

wasm_tests() {
    # wasm-bindgen-test-runner (from wasm-bindgen-cli) drives Chromium through chromedriver
    # and adds headless/no-sandbox itself; tests/webdriver.json adds the flags that keep
    # Chromium off the (closed) network. Its default 20 s budget is short for 2 cores.
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
        CHROMEDRIVER=/usr/bin/chromedriver \
        WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/tests/webdriver.json" \
        WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}" \
        cargo test --target wasm32-unknown-unknown --lib
}

native_tests() {
    # --all-targets covers lib, bins, integration tests, benches and examples but not
    # doctests, hence the second command.
    cargo test --workspace --all-targets && cargo test --workspace --doc
}

pgo_bench() {
    # The speed targets are measured, never asserted (a shared host varies 2x): this step
    # keeps scripts/pgo-build.sh working on a fresh machine — it fails if the optimised
    # build's runs differ from the instrumented build's — and prints the table BENCHMARKS.md
    # records.
    local bin
    bin=$(scripts/pgo-build.sh) && "$bin" bench
}

e2e() {
    local port url i
    # A free loopback port, so parallel runs and a running `trunk serve` do not collide.
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()') ||
        return 1
    url="http://127.0.0.1:$port"
    mkdir -p target || return 1
    python3 -m http.server --bind 127.0.0.1 --directory dist "$port" >target/e2e-server.log 2>&1 &
    PL_SERVER_PID=$!
    # Wait until it answers: at most 100 tries, 0.1 s apart.
    for ((i = 0; ; i++)); do
        curl -fsS -o /dev/null "$url/" 2>/dev/null && break
        if ((i >= 100)) || ! kill -0 "$PL_SERVER_PID" 2>/dev/null; then
            cat target/e2e-server.log >&2
            echo "static server on $url did not come up" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "serving dist/ on $url"
    PL_BASE_URL="$url" node --test tests/e2e/
}

step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy (native)" cargo clippy --workspace --all-targets -- -D warnings
step "cargo clippy (wasm32: the UI)" cargo clippy --workspace --target wasm32-unknown-unknown -- -D warnings
step "cargo test (native, all targets + doctests)" native_tests
step "native PGO build + bench (speed recorded, not asserted)" pgo_bench
step "wasm-bindgen tests (headless Chromium)" wasm_tests
step "trunk build --release" trunk build --release
step "e2e tests (node --test: Chromium, Firefox, WebKit)" e2e
