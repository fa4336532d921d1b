#!/usr/bin/env bash
# Builds the release files into dist/ (emptied first), then checks each wheel:
#   - a manylinux x86_64 wheel for each of CPython 3.11, 3.12 and 3.13 (version-specific, the
#     fastest build: see the README, "Install");
#   - one cp311-abi3 wheel (the stable ABI, Cargo feature `abi3`), which pip picks only where
#     no version-specific wheel matches: CPython 3.14 and later;
#   - the sdist.
# Each wheel must be reported by `auditwheel show` as consistent with a manylinux policy (no
# external shared library beyond the policy's), and the abi3 wheel must pass abi3audit.
# Linking goes through zig (the `ziglang` package) against glibc 2.17, so the wheels are
# manylinux_2_17 whatever the glibc of the building machine.
#
# Needs Rust (>= 1.93) and the three CPythons (on PATH as python3.1x, or under pyenv). The
# build tools (maturin, ziglang, auditwheel, abi3audit) are pip-installed, pinned, into their
# own venv, .venv-build, made on first use. Linux x86_64 only.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pythons.sh

PYTHON=${PYTHON:-python3}
BUILD_VENV=${BUILD_VENV:-.venv-build}
DIST=dist
# Pinned: a new maturin or zig may change what the wheels link against.
TOOLS=(maturin==1.16.0 ziglang==0.17.1 auditwheel==6.8.2 abi3audit==0.0.26)
# manylinux2014 is manylinux_2_17: glibc 2.17 and later, every maintained x86_64 distribution.
COMPATIBILITY=manylinux2014

step() { printf '\n== %s\n' "$*"; }

# Looked up before the build venv goes on PATH (its python3.11 would shadow the real one).
python311=$(require_python 3.11)
interpreters=(--interpreter "$python311")
for version in 3.12 3.13; do
    interpreters+=(--interpreter "$(require_python "$version")")
done

step "build tools in $BUILD_VENV: ${TOOLS[*]}"
if [ ! -x "$BUILD_VENV/bin/python" ]; then
    "$PYTHON" -m venv "$BUILD_VENV"
    "$BUILD_VENV/bin/python" -m pip install -q --upgrade pip
fi
"$BUILD_VENV/bin/python" -m pip install -q "${TOOLS[@]}"
# maturin finds zig through the ziglang package of the Python on PATH.
export PATH="$PWD/$BUILD_VENV/bin:$PATH"

rm -rf "$DIST"
step "version-specific wheels for CPython 3.11, 3.12, 3.13"
maturin build --release --locked --zig --compatibility "$COMPATIBILITY" --out "$DIST" \
    "${interpreters[@]}"
step "abi3 wheel (CPython 3.11 and later)"
maturin build --release --locked --zig --compatibility "$COMPATIBILITY" --out "$DIST" \
    --features abi3 --interpreter "$python311"
step "sdist"
maturin sdist --out "$DIST"

step "check: auditwheel show (manylinux policy), abi3audit (abi3 wheel)"
shopt -s nullglob
wheels=("$DIST"/*.whl)
sdists=("$DIST"/*.tar.gz)
expected=(cp311-cp311 cp312-cp312 cp313-cp313 cp311-abi3)
if [ "${#wheels[@]}" -ne "${#expected[@]}" ] || [ "${#sdists[@]}" -ne 1 ]; then
    echo "error: expected ${#expected[@]} wheels and 1 sdist in $DIST, found:" "${wheels[@]}" \
        "${sdists[@]}" >&2
    exit 1
fi
for tag in "${expected[@]}"; do
    matching=("$DIST"/bufferproxy-*-"$tag"-*manylinux*_x86_64.whl)
    if [ "${#matching[@]}" -ne 1 ]; then
        echo "error: no manylinux x86_64 wheel tagged $tag in $DIST" >&2
        exit 1
    fi
done
for wheel in "${wheels[@]}"; do
    report=$(auditwheel show "$wheel")
    # auditwheel reports the most compatible policy the wheel satisfies; a wheel needing a
    # library outside the policy's whitelist is reported as plain linux_x86_64.
    policy=$(printf '%s\n' "$report" | tr '\n' ' ' |
        sed -n 's/.*consistent with the following platform tag: *"\([^"]*\)".*/\1/p')
    case "$policy" in
    manylinux_*_x86_64) ;;
    *)
        printf '%s\n' "$report" >&2
        echo "error: $wheel is not consistent with any manylinux policy" >&2
        exit 1
        ;;
    esac
    if printf '%s\n' "$report" | grep -q "external shared libraries"; then
        printf '%s\n' "$report" >&2
        echo "error: $wheel needs external shared libraries" >&2
        exit 1
    fi
    if [[ "$(basename "$wheel")" != *"$policy"* ]]; then
        echo "error: $wheel is not tagged with its policy $policy" >&2
        exit 1
    fi
    echo "$(basename "$wheel"): $policy"
done
abi3audit --strict --summary "$DIST"/*-abi3-*.whl

step "$DIST"
ls -l "$DIST"
