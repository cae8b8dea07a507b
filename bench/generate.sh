#!/usr/bin/env bash
# Generation and a no-op `update` of the README example, whole processes,
# with hyperfine: a release build of the CLI, output on tmpfs (/dev/shm),
# `--vcs none`. Prints hyperfine's summaries and the base record's size.
#
#   bench/generate.sh                                        # this checkout, built with --release
#   BENCH_GENERATOR=/path/to/mcp-oauth-new bench/generate.sh # another build of the CLI
#   BENCH_BASELINE=/path/to/mcp-oauth-new bench/generate.sh  # then both, interleaved (RUNS=60)
#
# Needs hyperfine (Debian's package). Takes /tmp/mcp-heavy.lock as the other
# heavy scripts do.
set -euo pipefail
source "$(dirname "$0")/lock.sh"
take_lock "$@"
source "$(dirname "$0")/lib.sh"

command -v hyperfine >/dev/null || die "hyperfine is needed (Debian: apt-get install hyperfine)"
cli=${BENCH_GENERATOR:-}
if [ -z "$cli" ]; then
    say "building the CLI with --release"
    (cd "$repo" && cargo build --release --locked --quiet)
    cli=$repo/target/release/mcp-oauth-new
fi
shm=$(mktemp -d /dev/shm/mcp-oauth-generate.XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
answers=$repo/tests/fixtures/readme.yaml
say "$("$cli" --version); load before: $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine -N --warmup 3 --runs 40 --prepare "rm -rf $shm/new" \
    "$cli $shm/new --answers $answers --vcs none --quiet"
"$cli" "$shm/project" --answers "$answers" --vcs none --quiet
hyperfine -N --warmup 3 --runs 40 "$cli update --quiet $shm/project"
echo "base record: $(stat -c %s "$shm/project/.mcp-oauth/base.tar.gz") bytes"
if [ -n "${BENCH_BASELINE:-}" ]; then
    say "interleaved with $("$BENCH_BASELINE" --version), ${RUNS:-60} runs each (medians)"
    python3 "$repo/bench/alternate.py" "${RUNS:-60}" "$answers" "$shm" "$BENCH_BASELINE" "$cli"
fi
