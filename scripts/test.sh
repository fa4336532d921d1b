#!/usr/bin/env bash
# The whole test suite, from scratch: a fresh venv, a release build of the package,
# Rust formatting/lints/tests, Python lint/format, and pytest (with the differential
# tests against pygame 2.6.1 active). This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv-test}

step() { printf '\n== %s\n' "$*"; }

step "venv $VENV ($("$PYTHON" --version))"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
step "build and install bufferproxy with its test extra"
"$VENV/bin/python" -m pip install -q ".[test]"

export PYO3_PYTHON="$PWD/$VENV/bin/python"

step "cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
step "cargo clippy -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
step "cargo test"
cargo test --locked

step "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

step "benchmark smoke run (benches/compare.py --quick)"
"$VENV/bin/python" benches/compare.py --quick > /dev/null

# ---- fuzzing (kept apart: its own tool and workspace) --------------------------------------
# A short coverage-guided run of each Rust fuzz target from the committed seeds (docs/fuzzing.md).
# cargo-fuzz is installed once into ~/.cargo/bin (~35 s); if that fails, the step is skipped
# with the reason. A crash or a disagreement with a reference model fails the run.
step "fuzz smoke run (scripts/fuzz.sh all ${FUZZ_SECONDS:=20}: ${FUZZ_SECONDS} s per target)"
if bash scripts/fuzz.sh install; then
    bash scripts/fuzz.sh all "$FUZZ_SECONDS"
else
    echo "SKIPPED fuzz smoke run: cargo-fuzz is not installed and could not be installed"
fi
# ---------------------------------------------------------------------------------------------

step "pytest"
# Run from tests/ against the installed wheel, not the source tree.
"$VENV/bin/python" -m pytest -p no:cacheprovider tests "$@"
