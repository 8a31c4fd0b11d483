#!/usr/bin/env bash
# scripts/setup.sh: install whatever Pressure Lab's build and tests need, and skip what is
# already there at the right version (a warm run takes a few seconds).
#
#   . scripts/setup.sh    from another script: installs, then leaves PATH and the
#                         environment set up for trunk, wasm-opt and the tests (test.sh and
#                         serve.sh do this)
#   scripts/setup.sh      from a terminal: installs only
#
# PL_SETUP_SKIP_BROWSER=1 skips Chromium/chromedriver (serve.sh needs no browser).
#
# Only package registries are reachable on this machine kind (crates.io, npm, Debian apt,
# plus rustup's own server), so every tool comes from one of them and nothing else is
# downloaded. Trunk is told to stay offline (Trunk.toml) so that it never tries to fetch
# wasm-bindgen or wasm-opt itself. Facts behind the versions: shared/reference/toolchain.md.
#
# Errors exit: a script that sources this one must stop if its tools cannot be had.

set -euo pipefail

PL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# trunk 0.22 needs a newer rustc than this machine's 1.95: stay on 0.21.
PL_TRUNK_VERSION=0.21.14
PL_SETUP_LOGS="$PL_ROOT/target/setup-logs"

# cargo-installed tools first, then npm's wasm-opt (binaryen 132) ahead of any older system
# one: Debian's binaryen 108 cannot parse current rustc output, and trunk takes the first
# wasm-opt on PATH.
export PATH="$PL_ROOT/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# trunk would otherwise ask crates.io's web API for a newer trunk on every run.
export TRUNK_SKIP_VERSION_CHECK=true
export DEBIAN_FRONTEND=noninteractive

pl_say() { printf 'setup: %s\n' "$*"; }
pl_die() {
    printf 'setup: ERROR: %s\n' "$*" >&2
    exit 1
}

# Run an install command with its (long) output in a log file; show the tail if it fails.
pl_install() { # name, command...
    local name=$1 log start
    shift
    mkdir -p "$PL_SETUP_LOGS"
    log="$PL_SETUP_LOGS/$name.log"
    start=$SECONDS
    pl_say "$name: installing (log: ${log#"$PL_ROOT"/})"
    if ! "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        pl_die "$name: install failed: $*"
    fi
    pl_say "$name: installed ($((SECONDS - start)) s)"
}

# The version of crate $1 in Cargo.lock; fails unless exactly one version is locked.
pl_lock_version() {
    local versions
    versions=$(awk -v crate="\"$1\"" '
        $1 == "name" { hit = ($3 == crate); next }
        hit && $1 == "version" { gsub(/"/, "", $3); print $3; hit = 0 }
    ' "$PL_ROOT/Cargo.lock")
    [[ -n $versions && $versions != *$'\n'* ]] ||
        pl_die "expected exactly one version of $1 in Cargo.lock, found: ${versions:-none}"
    printf '%s\n' "$versions"
}

pl_setup_rust() {
    # rustfmt/clippy for test.sh; both ship with the default rustup profile. llvm-tools
    # for scripts/pgo-build.sh (llvm-profdata at rustc's own LLVM version).
    # (Captured first: grep -q closing a pipe early can fail the pipeline under pipefail.)
    local c have targets missing=()
    have=$(rustup component list --installed)
    for c in rustfmt clippy llvm-tools; do
        grep -q "^$c-" <<<"$have" || missing+=("$c")
    done
    if ((${#missing[@]})); then
        pl_install rust-components rustup component add "${missing[@]}"
    else
        pl_say "rustfmt, clippy, llvm-tools: skip (installed)"
    fi

    targets=$(rustup target list --installed)
    if grep -qx wasm32-unknown-unknown <<<"$targets"; then
        pl_say "rust target wasm32-unknown-unknown: skip (installed)"
    elif ! rustup target add wasm32-unknown-unknown; then
        pl_die "'rustup target add wasm32-unknown-unknown' failed: rustup's server could not be reached"
    else
        pl_say "rust target wasm32-unknown-unknown: installed"
    fi
}

pl_setup_trunk() {
    local have
    have=$(trunk --version 2>/dev/null || true)
    if [[ $have == "trunk $PL_TRUNK_VERSION" ]]; then
        pl_say "trunk $PL_TRUNK_VERSION: skip (installed)"
    else
        pl_say "trunk $PL_TRUNK_VERSION: found '${have:-none}'; compiling, ~8 min on 2 cores"
        pl_install trunk cargo install --locked trunk --version "$PL_TRUNK_VERSION"
        have=$(trunk --version 2>/dev/null || true)
        [[ $have == "trunk $PL_TRUNK_VERSION" ]] ||
            pl_die "installed trunk $PL_TRUNK_VERSION, but 'trunk' on PATH ($(command -v trunk)) says '$have'"
    fi
}

pl_setup_wasm_bindgen() {
    # The CLI must match the wasm-bindgen crate exactly, and Trunk.toml pins it for trunk.
    local want pinned have have_runner
    want=$(pl_lock_version wasm-bindgen)
    pinned=$(sed -n 's/^[[:space:]]*wasm_bindgen[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
        "$PL_ROOT/Trunk.toml")
    [[ $pinned == "$want" ]] ||
        pl_die "Trunk.toml pins wasm_bindgen = \"${pinned:-<none>}\" but Cargo.lock has wasm-bindgen $want: set [tools] wasm_bindgen = \"$want\" in Trunk.toml"

    have=$(wasm-bindgen --version 2>/dev/null || true)
    have_runner=$(wasm-bindgen-test-runner --version 2>/dev/null || true)
    if [[ $have == "wasm-bindgen $want" && $have_runner == "wasm-bindgen-test-runner $want" ]]; then
        pl_say "wasm-bindgen-cli $want (= Cargo.lock = Trunk.toml): skip (installed)"
    else
        pl_say "wasm-bindgen-cli $want: found '${have:-none}'; compiling, ~3 min"
        # No --locked: its own lockfile pins a webpki-roots version the registry lacks.
        pl_install wasm-bindgen-cli cargo install wasm-bindgen-cli --version "$want"
        have=$(wasm-bindgen --version 2>/dev/null || true)
        [[ $have == "wasm-bindgen $want" ]] ||
            pl_die "installed wasm-bindgen-cli $want, but 'wasm-bindgen' on PATH ($(command -v wasm-bindgen)) says '$have'"
    fi
}

pl_setup_npm() {
    # npm ci only when node_modules was not installed from this exact package-lock.json
    # (the stamp holds the lockfile's hash, which survives fresh clones and touch).
    local major sum stamp="$PL_ROOT/node_modules/.pl-lock.sha256"
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        pl_die "node and npm are needed (playwright-core, puppeteer-core, selenium-webdriver, binaryen's wasm-opt)"
    fi
    major=$(node -p 'process.versions.node.split(".")[0]')
    ((major >= 20)) || pl_die "node >= 20 is needed by playwright-core, found $(node --version)"

    sum=$(sha256sum "$PL_ROOT/package-lock.json" | cut -d' ' -f1)
    if [[ -f $stamp && $(<"$stamp") == "$sum" && -x $PL_ROOT/node_modules/.bin/wasm-opt &&
        -f $PL_ROOT/node_modules/playwright-core/package.json ]]; then
        pl_say "npm packages (playwright-core, puppeteer-core, selenium-webdriver, binaryen): skip (node_modules matches package-lock.json)"
    else
        pl_install npm-ci npm ci --prefix "$PL_ROOT" --no-audit --no-fund
        printf '%s\n' "$sum" >"$stamp"
    fi
}

pl_setup_apt() {
    # Browsers come from Debian (playwright's own downloads fail here): chromium for the
    # playwright-core tests, firefox-esr for the Firefox test (puppeteer-core drives it over
    # WebDriver BiDi, so no geckodriver), WebKitGTK's MiniBrowser and WebKitWebDriver under
    # Xvfb for the WebKit test (Safari's engine; selenium-webdriver talks to the driver).
    # curl and python3 serve and probe dist/ in test.sh.
    local pkgs=()
    if [[ ${PL_SETUP_SKIP_BROWSER:-0} != 1 ]]; then
        [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || pkgs+=(chromium chromium-driver)
        [[ -x /usr/bin/firefox-esr ]] || pkgs+=(firefox-esr)
        [[ -x /usr/bin/WebKitWebDriver ]] || pkgs+=(webkit2gtk-driver)
        command -v xvfb-run >/dev/null || pkgs+=(xvfb xauth)
    fi
    command -v curl >/dev/null || pkgs+=(curl)
    command -v python3 >/dev/null || pkgs+=(python3)
    if ((${#pkgs[@]} == 0)); then
        pl_say "apt packages (chromium, chromium-driver, firefox-esr, webkit2gtk-driver, xvfb, curl, python3): skip (installed)"
        return
    fi
    [[ $(id -u) == 0 ]] || pl_die "need root to apt-get install ${pkgs[*]}"
    pl_install apt bash -c "apt-get update && apt-get install -y ${pkgs[*]}"
}

pl_setup() {
    local start=$SECONDS
    [[ -f $PL_ROOT/Trunk.toml && -f $PL_ROOT/Cargo.lock && -f $PL_ROOT/package-lock.json ]] ||
        pl_die "run from a Pressure Lab checkout (Trunk.toml, Cargo.lock, package-lock.json)"
    pl_setup_rust
    pl_setup_apt
    pl_setup_npm
    pl_setup_wasm_bindgen
    pl_setup_trunk
    pl_say "done in $((SECONDS - start)) s"
}

pl_setup
