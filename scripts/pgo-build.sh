#!/usr/bin/env bash
# scripts/pgo-build.sh: the native CLI built with profile-guided optimisation, for the
# speed targets (BENCHMARKS.md). Prints the binary's path on stdout:
#
#   bin=$(scripts/pgo-build.sh) && "$bin" run swap-over-nbd --json
#
# Three steps, each in its own target directory so that neither disturbs the ordinary
# `cargo build --release` cache: (1) a build instrumented with -Cprofile-generate, (2) a
# training run — every built-in scenario under every preset (`matrix`) and once more
# under its default preset (`run`), the runs the page and the CLI compute — whose counts
# llvm-profdata merges, (3) the release build again with -Cprofile-use. The simulation is
# the same code either way: the trace hashes of the training binary, the plain release
# build and this one are equal (the script checks one of them), only the layout of the
# machine code follows the measured branch frequencies.
#
# llvm-profdata comes from rustup's llvm-tools component (scripts/setup.sh installs it):
# the profile format must match rustc's LLVM, and a system LLVM's profdata usually does not.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PL_SETUP_SKIP_BROWSER=1
# shellcheck source=scripts/setup.sh
. scripts/setup.sh >&2

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
[[ -x $profdata ]] || {
    echo "pgo-build: no $profdata (rustup component add llvm-tools)" >&2
    exit 1
}

root=$(realpath -m "${CARGO_TARGET_DIR:-target}/pgo")
profiles="$root/profiles"
rm -rf "$profiles"
mkdir -p "$profiles"

echo "pgo-build: 1/3 instrumented build" >&2
RUSTFLAGS="-Cprofile-generate=$profiles" \
    cargo build -q --release --bin pressure-lab --target-dir "$root/generate"
trainer="$root/generate/release/pressure-lab"

echo "pgo-build: 2/3 training run" >&2
"$trainer" matrix --json >/dev/null
scenarios=$("$trainer" list --json | python3 -c \
    'import json, sys; print("\n".join(s["name"] for s in json.load(sys.stdin)["scenarios"]))')
for s in $scenarios; do
    "$trainer" run "$s" --json >"$root/train-$s.json"
done
"$profdata" merge -o "$root/merged.profdata" "$profiles"

echo "pgo-build: 3/3 optimised build" >&2
RUSTFLAGS="-Cprofile-use=$root/merged.profdata" \
    cargo build -q --release --bin pressure-lab --target-dir "$root/use"
bin="$root/use/release/pressure-lab"

# The same simulation: one run's JSON (trace hash and all) from both builds.
for s in $scenarios; do
    if ! "$bin" run "$s" --json | cmp -s - "$root/train-$s.json"; then
        echo "pgo-build: $s: the optimised build's run differs from the instrumented one's" >&2
        exit 1
    fi
done
echo "$bin"
