#!/usr/bin/env bash
# Runs Python tests under valgrind memcheck against the built extension. See docs/fuzzing.md.
#
#   bash scripts/valgrind.sh                      the default subset (DEFAULT_TESTS below)
#   bash scripts/valgrind.sh tests/test_write.py  any pytest arguments instead
#
# Needs a venv with bufferproxy installed, as scripts/test.sh leaves it: VENV (default
# .venv-test). PYTHONMALLOC=malloc sends every allocation through malloc, so memcheck sees
# each object; scripts/valgrind-python.supp hides CPython's, glibc's, numpy's and pygame's own
# noise (each entry anchored on their code, so errors raised in our extension still show).
# Fails (exit 1) on a failing test, and on any invalid read or write, use of uninitialised
# memory, bad free or definite leak the suppressions do not cover; the records with a frame in
# _bufferproxy are counted separately in the summary. Hypothesis runs its `dev` profile
# (BUFFERPROXY_HYPOTHESIS_PROFILE) unless told otherwise. The default subset takes ~5 min.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv-test}
LOG_DIR=${VALGRIND_LOG_DIR:-target/valgrind}
# Every test file but the pygame differential tests (pygame's SDL libraries are not ours to
# check, and those tests re-run what the others cover) and the subprocess-heavy example and
# typing tests (mypy under valgrind takes far too long).
DEFAULT_TESTS=(
    tests/test_dict_description.py
    tests/test_write.py
    tests/test_buffer_flags.py
    tests/test_callbacks.py
    tests/test_object.py
    tests/test_interfaces.py
    tests/test_exporters.py
    tests/test_dlpack.py
    tests/test_consumers.py
    tests/test_fuzz_python.py
    tests/test_item_types.py
)

if ! command -v valgrind > /dev/null; then
    echo "valgrind is not installed (apt-get install valgrind)" >&2
    exit 2
fi
if ! "$VENV/bin/python" -c "import bufferproxy" 2> /dev/null; then
    echo "no bufferproxy in $VENV: run scripts/test.sh first, or set VENV" >&2
    exit 2
fi
mkdir -p "$LOG_DIR"
log="$LOG_DIR/memcheck.log"
[[ $# -gt 0 ]] && tests=("$@") || tests=("${DEFAULT_TESTS[@]}")
ext=$("$VENV/bin/python" -c "import bufferproxy._bufferproxy as m; print(m.__file__)")
echo "valgrind memcheck: $ext"
echo "tests: ${tests[*]}"

start=$SECONDS
status=0
# -p no:faulthandler: its alternate signal stack and watchdog thread only add noise here.
PYTHONMALLOC=malloc BUFFERPROXY_HYPOTHESIS_PROFILE=${BUFFERPROXY_HYPOTHESIS_PROFILE:-dev} \
    valgrind --tool=memcheck \
    --suppressions=scripts/valgrind-python.supp \
    --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --error-exitcode=1 --num-callers=40 --track-origins=no \
    --log-file="$log" \
    "$VENV/bin/python" -X faulthandler=0 -m pytest -p no:cacheprovider -p no:faulthandler -q \
    "${tests[@]}" || status=$?

elapsed=$((SECONDS - start))
summary=$(grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost' "$log" | tail -n 4)
echo "$summary"
# Unsuppressed records (errors and leaks) with a frame in our extension.
ours=$(awk '/^==[0-9]+== *$/ { if (rec ~ /_bufferproxy/) print rec; rec = ""; next }
            { rec = rec "\n" $0 }
            END { if (rec ~ /_bufferproxy/) print rec }' "$log" |
    grep -c -E 'Invalid (read|write)|uninitialised|definitely lost|Invalid free|Mismatched' || true)
if [[ $ours -gt 0 ]]; then
    echo "valgrind: $ours error/leak record(s) with frames in _bufferproxy (see $log)"
    status=1
fi
if [[ $status -ne 0 ]]; then
    echo "valgrind: FAILED (exit $status) after ${elapsed} s; full log: $log"
    exit 1
fi
echo "valgrind: clean after ${elapsed} s (log: $log)"
