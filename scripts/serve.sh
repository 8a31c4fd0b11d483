#!/usr/bin/env bash
# scripts/serve.sh: install what is missing, then build the app with trunk and serve it on
# http://127.0.0.1:8080/, rebuilding on changes. Extra arguments go to `trunk serve`
# (e.g. --release for the optimized build, which runs wasm-opt). Ctrl-C stops it.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Serving needs no browser: skip the Chromium install if it is missing.
PL_SETUP_SKIP_BROWSER=1
# shellcheck source=scripts/setup.sh
. scripts/setup.sh

# Address and port also sit in Trunk.toml; given here too so the printed URL cannot drift.
echo "serve: building, then serving on http://127.0.0.1:8080/ (Ctrl-C to stop)"
exec trunk serve --address 127.0.0.1 --port 8080 "$@"
