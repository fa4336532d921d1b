#!/usr/bin/env bash
# The whole test suite, from scratch: a fresh venv, a release build of the package,
# Rust formatting/lints/tests, Python lint/format, and pytest (with the differential
# tests against pygame 2.6.1 active), then pytest again under CPython 3.12 and 3.13.
# This is what CI runs (.ci/run).
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
step "build and install the Rust exporter example (examples/rust_exporter)"
"$VENV/bin/python" -m pip install -q ./examples/rust_exporter

export PYO3_PYTHON="$PWD/$VENV/bin/python"

step "cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
step "cargo clippy -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
step "cargo test"
cargo test --locked

step "the Rust exporter example: cargo fmt --check, clippy -D warnings"
(cd examples/rust_exporter && cargo fmt -- --check && cargo clippy --locked -- -D warnings)

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

# The other supported CPythons (3.12, 3.13): each gets its own wheel (the build is
# version-specific, not abi3: see the README) and the whole Python suite. They are looked
# up on PATH, then under pyenv; OTHER_PYTHONS (space-separated commands or paths) overrides.
find_python() {
    local version=$1 candidate
    if command -v "python$version" >/dev/null 2>&1 && "python$version" -c '' 2>/dev/null; then
        command -v "python$version"
        return
    fi
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
        [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
}
if [ -z "${OTHER_PYTHONS+set}" ]; then
    OTHER_PYTHONS=""
    for version in 3.12 3.13; do
        found=$(find_python "$version")
        if [ -z "$found" ]; then
            echo "error: CPython $version not found (set OTHER_PYTHONS='' to skip it knowingly)" >&2
            exit 1
        fi
        OTHER_PYTHONS="$OTHER_PYTHONS $found"
    done
fi
for other in $OTHER_PYTHONS; do
    other_venv="$VENV-$("$other" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    step "pytest under $("$other" --version) ($other_venv)"
    rm -rf "$other_venv"
    "$other" -m venv "$other_venv"
    "$other_venv/bin/python" -m pip install -q --upgrade pip
    "$other_venv/bin/python" -m pip install -q ".[test]" ./examples/rust_exporter
    "$other_venv/bin/python" -m pytest -p no:cacheprovider -q tests "$@"
done
