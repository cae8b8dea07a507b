# Sourced first by the heavy bench scripts (compare.sh, soak.sh, profile.sh):
# `take_lock "$@"` re-runs the script under flock on /tmp/mcp-heavy.lock, so
# no two heavy jobs share the two cores; it waits while another holds the
# lock. A caller that already holds it through flock(1) is recognised, and
# BENCH_NO_LOCK=1 skips it.
# shellcheck shell=bash

lock=/tmp/mcp-heavy.lock

# A process holds the lock when one of its descriptors is open on the lock
# file: flock(1) leaves its descriptor to the command it runs.
holds_lock() {
    local fd
    for fd in "/proc/$$/fd/"*; do
        [ "$(readlink "$fd")" = "$lock" ] && return 0
    done
    return 1
}

take_lock() {
    if [ -z "${BENCH_NO_LOCK:-}" ] && ! holds_lock; then
        flock -n "$lock" true || printf '== waiting for %s: another heavy job holds it\n' "$lock" >&2
        exec flock "$lock" "$BASH" "$0" "$@"
    fi
}
