#!/usr/bin/env bash
# Coverage-guided fuzzing of the pure-Rust core with cargo-fuzz (libFuzzer), on the
# stable toolchain. See docs/fuzzing.md.
#
#   bash scripts/fuzz.sh layout [SECONDS]   Layout::new, contiguity, negotiate vs i128 references
#   bash scripts/fuzz.sh format [SECONDS]   typestrs and PEP 3118 formats vs lookup tables
#   bash scripts/fuzz.sh copy   [SECONDS]   gather/scatter/check_span vs item-by-item copies
#   bash scripts/fuzz.sh all    [SECONDS]   the three above, one after the other (CI: 20 s each)
#   bash scripts/fuzz.sh install            cargo install cargo-fuzz, unless it is there already
#
# SECONDS is per target (default 20). Each run starts from the committed seed corpus
# fuzz/seeds/TARGET and adds what it finds to fuzz/corpus/TARGET (not committed); a
# crash leaves its input in fuzz/artifacts/TARGET and prints the command reproducing it.
#
# Stable Rust: cargo-fuzz's default AddressSanitizer build passes -Zsanitizer=address,
# which stable rustc refuses, so the default here is `--sanitizer none`: coverage
# instrumentation (-Cpasses=sancov-module, stable flags), debug assertions and overflow
# checks. The code under test is safe Rust, so an out-of-bounds access is already a
# panic. FUZZ_SANITIZER=address builds with ASan anyway, through RUSTC_BOOTSTRAP=1
# (lets stable rustc accept -Z flags; for local runs, not for CI).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(layout format copy)
SANITIZER=${FUZZ_SANITIZER:-none}
export PYO3_PYTHON=${PYO3_PYTHON:-$(command -v python3)}

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

have_cargo_fuzz() { cargo fuzz --version > /dev/null 2>&1; }

install() {
    if have_cargo_fuzz; then
        echo "cargo-fuzz present: $(cargo fuzz --version)"
        return 0
    fi
    # A debug build of the driver installs in ~35 s instead of ~110 s; it only runs cargo.
    echo "installing cargo-fuzz (cargo install cargo-fuzz --locked --debug) ..."
    cargo install cargo-fuzz --locked --debug --quiet
}

fuzz_flags=(-O --debug-assertions --sanitizer "$SANITIZER")
cargo_fuzz() {
    if [[ $SANITIZER != none ]]; then
        RUSTC_BOOTSTRAP=1 cargo fuzz "$@"
    else
        cargo fuzz "$@"
    fi
}

run_target() {
    local target=$1 seconds=$2
    local log=fuzz/target/logs/$target.log
    mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target" fuzz/target/logs
    local start=$SECONDS
    if ! cargo_fuzz run "${fuzz_flags[@]}" "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" \
        -- -max_total_time="$seconds" -timeout=10 -print_final_stats=1 > "$log" 2>&1; then
        # The panic, the failing input (Debug) and the command reproducing it.
        grep -v -E '^(#[0-9]+|\s+NEW_FUNC)' "$log" | tail -n 80
        echo "fuzz $target: FAILED after $((SECONDS - start)) s (full log: $log)"
        return 1
    fi
    local done_line cov
    done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
    echo "fuzz $target: ok, ${done_line#Done }, $cov, no crash"
}

case "${1:-all}" in
    -h | --help) usage ;;
    install) install ;;
    all | layout | format | copy)
        [[ ${1:-all} == all ]] && targets=("${TARGETS[@]}") || targets=("$1")
        seconds=${2:-20}
        if ! have_cargo_fuzz; then
            echo "cargo-fuzz is not installed: run 'bash scripts/fuzz.sh install' first" >&2
            exit 1
        fi
        # One build for all targets, then the bounded runs one at a time.
        cargo_fuzz build "${fuzz_flags[@]}" > /dev/null
        status=0
        for t in "${targets[@]}"; do
            run_target "$t" "$seconds" || status=1
        done
        exit $status
        ;;
    *) usage ;;
esac
