# Sourced by scripts/test.sh and scripts/build-wheels.sh: finding the supported CPythons.

# find_python VERSION: prints the path of CPython VERSION (e.g. 3.12), or nothing if there is
# none: `pythonVERSION` on PATH if it runs, else an install under pyenv.
find_python() {
    local version=$1 candidate
    if command -v "python$version" >/dev/null 2>&1 && "python$version" -c '' 2>/dev/null; then
        command -v "python$version"
        return
    fi
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
        [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
    return 0
}

# require_python VERSION: as find_python, but a missing CPython is an error.
require_python() {
    local found
    found=$(find_python "$1")
    if [ -z "$found" ]; then
        echo "error: CPython $1 not found (on PATH as python$1, or under pyenv)" >&2
        return 1
    fi
    echo "$found"
}
