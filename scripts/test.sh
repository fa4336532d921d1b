#!/usr/bin/env bash
# The whole test suite, from scratch. This is what CI runs (.ci/run).
#  1. The release files: scripts/build-wheels.sh builds the manylinux wheels (cp311, cp312,
#     cp313 and cp311-abi3) and the sdist into dist/, and checks them (auditwheel, abi3audit).
#  2. A fresh venv with Rust (.venv-test, CPython 3.11): bufferproxy built from the sdist with
#     its test extra, and the Rust exporter example; Rust formatting, lints and tests, ruff, the
#     benchmark and fuzz smoke runs, and the whole pytest suite (with the differential tests
#     against pygame 2.6.1) against that install.
#  3. For each of CPython 3.11, 3.12 and 3.13, a fresh venv where no cargo or rustc can be
#     found: the test extra from PyPI, bufferproxy from dist/ (pip must pick the version-specific
#     wheel) and the whole suite but the Rust example's tests; then the abi3 wheel, and the
#     suite again.
# The time of each step is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pythons.sh

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv-test}

# ---- timing: every step is timed until the next one starts ----------------------------------
STEP_NAME=""
STEP_START=$SECONDS
TIMES=()
end_step() {
    if [ -n "$STEP_NAME" ]; then
        TIMES+=("$(printf '%6d s  %s' $((SECONDS - STEP_START)) "$STEP_NAME")")
    fi
    STEP_NAME=""
}
step() {
    end_step
    STEP_NAME=$*
    STEP_START=$SECONDS
    printf '\n== %s\n' "$*"
}
report_times() {
    end_step
    printf '\n== time per step\n'
    printf '%s\n' "${TIMES[@]}"
    printf '%6d s  total\n' "$SECONDS"
}
trap report_times EXIT

# cpXY for the CPython that runs the given venv's python.
cp_tag() { "$1/bin/python" -c 'import sys; print("cp%d%d" % sys.version_info[:2])'; }

# ---- 1. the wheels and the sdist ------------------------------------------------------------
step "build and check the wheels and the sdist (scripts/build-wheels.sh)"
rm -rf "$VENV-build"
BUILD_VENV="$VENV-build" PYTHON="$PYTHON" bash scripts/build-wheels.sh
sdists=(dist/bufferproxy-*.tar.gz)
abi3_wheels=(dist/bufferproxy-*-cp311-abi3-*.whl)

# ---- 2. the venv with Rust: bufferproxy from the sdist --------------------------------------
step "venv $VENV ($("$PYTHON" --version))"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
step "build and install bufferproxy from the sdist (${sdists[0]}), with its test extra"
"$VENV/bin/python" -m pip install -q "${sdists[0]}[test]"
step "build and install the Rust exporter example (examples/rust_exporter)"
"$VENV/bin/python" -m pip install -q ./examples/rust_exporter

export PYO3_PYTHON="$PWD/$VENV/bin/python"

step "cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
step "cargo clippy -- -D warnings (version-specific and abi3 builds)"
cargo clippy --all-targets --locked -- -D warnings
cargo clippy --all-targets --locked --features abi3 -- -D warnings
step "cargo test"
cargo test --locked

step "the Rust exporter example: cargo fmt --check, clippy -D warnings"
(cd examples/rust_exporter && cargo fmt -- --check && cargo clippy --locked -- -D warnings)

step "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

step "benchmark smoke run (benches/compare.py --quick; --rounds on two ops)"
"$VENV/bin/python" benches/compare.py --quick > /dev/null
"$VENV/bin/python" benches/compare.py --quick --rounds 4 --ops c,l > /dev/null

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

step "pytest: the whole suite against the sdist build, Rust example included ($("$PYTHON" --version))"
# Run from tests/ against the installed package, not the source tree (checked by conftest.py).
BUFFERPROXY_EXPECT_WHEEL="$(cp_tag "$VENV")-$(cp_tag "$VENV")-" \
    "$VENV/bin/python" -m pytest -p no:cacheprovider tests "$@"

# ---- 3. the wheels, without Rust ------------------------------------------------------------
# $PYTHON and the others of CPython 3.11, 3.12 and 3.13, looked up on PATH, then under pyenv;
# OTHER_PYTHONS (space-separated commands or paths) overrides the others.
if [ -z "${OTHER_PYTHONS+set}" ]; then
    primary_version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    OTHER_PYTHONS=""
    for version in 3.11 3.12 3.13; do
        if [ "$version" != "$primary_version" ]; then
            OTHER_PYTHONS="$OTHER_PYTHONS $(require_python "$version")"
        fi
    done
fi

# Runs a command with PATH reduced to the venv's bin and the system's (/usr/bin, /bin), and
# without the Rust variables: no cargo or rustc can be found (checked below), so nothing can
# be built from Rust source.
without_rust() {
    local venv=$1
    shift
    env -u CARGO_HOME -u RUSTUP_HOME -u PYO3_PYTHON PATH="$PWD/$venv/bin:/usr/bin:/bin" "$@"
}

for python in "$PYTHON" $OTHER_PYTHONS; do
    wheel_venv="$VENV-wheels-$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    step "venv $wheel_venv ($("$python" --version)) without Rust: the test extra from PyPI"
    rm -rf "$wheel_venv"
    "$python" -m venv "$wheel_venv"
    if without_rust "$wheel_venv" sh -c 'command -v cargo || command -v rustc'; then
        echo "error: cargo or rustc is on the reduced PATH of $wheel_venv" >&2
        exit 1
    fi
    echo "no cargo, no rustc on PATH=$PWD/$wheel_venv/bin:/usr/bin:/bin"
    without_rust "$wheel_venv" python -m pip install -q --upgrade pip
    "$wheel_venv/bin/python" -c '
import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["test"]))
' > "$wheel_venv/test-requirements.txt"
    without_rust "$wheel_venv" python -m pip install -q --only-binary :all: \
        -r "$wheel_venv/test-requirements.txt"
    tag=$(cp_tag "$wheel_venv")

    step "pytest without Rust: the $tag-$tag wheel ($("$python" --version))"
    # pip may take only a wheel from dist/; conftest.py checks that the tests import it from
    # the venv's site-packages and that it is the version-specific one, not the abi3 one.
    without_rust "$wheel_venv" python -m pip install -q --no-index --find-links dist \
        --only-binary :all: bufferproxy
    # The Rust example's tests are left out: the example needs Rust to build.
    without_rust "$wheel_venv" env BUFFERPROXY_EXPECT_WHEEL="$tag-$tag-manylinux" \
        python -m pytest -p no:cacheprovider tests --ignore tests/test_rust_example.py "$@"

    step "pytest without Rust: the cp311-abi3 wheel ($("$python" --version))"
    without_rust "$wheel_venv" python -m pip install -q --force-reinstall --no-deps \
        "${abi3_wheels[0]}"
    # As above: the Rust example needs Rust to build.
    without_rust "$wheel_venv" env BUFFERPROXY_EXPECT_WHEEL="cp311-abi3-manylinux" \
        python -m pytest -p no:cacheprovider tests --ignore tests/test_rust_example.py "$@"
done
