#!/usr/bin/env bash
# The generated server's memory under hostile load (see bench/README.md,
# "Memory under hostile load").
#
# Builds the README example exactly as bench/run.sh does and, for each
# scenario of bench/memory.mjs (headers, bodies, parsing, small, all), starts
# a fresh instance as the Kubernetes Deployment runs it (MCP_STATELESS=true,
# every limit at its default) against the Scalekit stand-in, runs the
# scenario against it and reads its resident set: before, the peak sampled
# every 20 ms, and VmHWM. Prints a Markdown table to standard output, the
# progress to standard error. Exits 1 if a scenario's peak passes
# MEMORY_LIMIT_MIB (128, the Deployment's limit).
#
#   bench/memory.sh
#   BENCH_SERVER_BIN=path/to/todo-mcp bench/memory.sh   # another build of the README example
#
# Takes /tmp/mcp-heavy.lock (flock) for the whole build and run, as
# bench/compare.sh does: a caller holding it through flock(1) is recognised,
# BENCH_NO_LOCK=1 skips it.
set -euo pipefail

# shellcheck source=bench/lock.sh
source "$(dirname "$0")/lock.sh"
take_lock "$@"

limit_mib=${MEMORY_LIMIT_MIB:-128}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

command -v node >/dev/null || die "Node.js 20+ is needed (bench/standin.mjs, bench/memory.mjs)"
command -v curl >/dev/null || die "curl is needed to wait for the server"
port=$(free_port)
if [ -n "${BENCH_SERVER_BIN:-}" ]; then
    server_bin=$BENCH_SERVER_BIN
    resource_id=$(sed -n 's/^ *resource_id: *//p' "$repo/tests/fixtures/readme.yaml")
else
    build_cli
    build_server "$port"
fi
start_standin

rows=()
over=0
for scenario in headers bodies parsing small all; do
    say "scenario $scenario, on a fresh instance"
    start_generated "$port" "$work/server-$scenario.log"
    pid=$started_pid
    # VmHWM from here: the scenario's peak, not the start-up's.
    echo 5 >"/proc/$pid/clear_refs"
    result=$(node "$repo/bench/memory.mjs" "$scenario" "$port" "$pid" "$read_token")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    printf '%s\n' "$result" >&2
    # One table row: the scenario, the resident set before and at its peak,
    # and how many connections got each outcome.
    row=$(node -e '
        const r = JSON.parse(process.argv[1]);
        const outcomes = Object.entries(r.outcomes)
            .map(([kind, counts]) => `${kind}: ${Object.entries(counts).map(([o, n]) => `${n} ${o}`).join(", ")}`)
            .join("; ");
        console.log(`| ${r.scenario} | ${r.rss_before_mib} | ${r.rss_peak_mib} | ${outcomes} |`);
    ' "$result")
    peak=$(node -e 'console.log(JSON.parse(process.argv[1]).rss_peak_mib)' "$result")
    if awk -v peak="$peak" -v limit="$limit_mib" 'BEGIN { exit !(peak > limit) }'; then
        over=1
    fi
    rows+=("$row")
done

echo "| scenario | RSS before (MiB) | peak RSS (MiB) | what the connections got |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
[ "$over" -eq 0 ] || die "a scenario's peak passed ${limit_mib} MiB"
