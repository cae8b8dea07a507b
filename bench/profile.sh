#!/usr/bin/env bash
# Where the generated server's CPU goes (see bench/README.md, "Where the time
# goes"): builds and starts the README example as bench/run.sh does, loads one
# scenario with wrk, measures the server's CPU per request without a profiler,
# then again under `perf record`, and prints perf's top symbols (self time)
# and the inclusive shares from a DWARF call graph.
#
#   bench/profile.sh                 # the authenticated tools/call (200)
#   bench/profile.sh forged          # a forged token (401; limiter raised)
#   bench/profile.sh new-forged      # a new forged token each request (401)
#   PROFILE_DURATION=20s bench/profile.sh
#   PROFILE_PERF=0 bench/profile.sh new-forged   # the CPU per request only, no perf
#
# Needs perf (Debian's linux-perf). Takes /tmp/mcp-heavy.lock as compare.sh
# does (BENCH_NO_LOCK=1 skips it). The perf data stays in target/bench/profile.
set -euo pipefail

# shellcheck source=bench/lock.sh
source "$(dirname "$0")/lock.sh"
take_lock "$@"

scenario=${1:-call}
duration=${PROFILE_DURATION:-10s}
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

[ "${PROFILE_PERF:-1}" = 0 ] || command -v perf >/dev/null || die "perf is needed (Debian: apt-get install linux-perf)"
require_tools
build_cli
port=$(free_port)
build_server "$port"
start_standin
case $scenario in
    call) token=$read_token expected=200 ;;
    forged) token=$forged_token expected=401 ;;
    new-forged) token=$forged_token expected=401 vary=vary-token ;;
    *) die "unknown scenario $scenario: call, forged or new-forged" ;;
esac
start_generated "$port" "$work/server.log" MCP_AUTH_FAILURES_PER_MINUTE=1000000
pid=$started_pid
url=http://127.0.0.1:$port/mcp
out=$bench_target/profile
mkdir -p "$out"

load() {
    wrk -t 2 -c 32 -d "$1" --latency "${mcp_headers[@]}" -H "Authorization: Bearer $token" \
        -s "$repo/bench/wrk.lua" "$url" -- "$expected" POST "$work/call.json" ${vary:+"$vary"}
}
# cpu_per_request DURATION: the server's utime + stime over the requests wrk
# completed, in µs.
cpu_per_request() {
    local before after ticks
    ticks=$(getconf CLK_TCK)
    before=$(cpu_ticks "$pid")
    line=$(load "$1" | grep '^BENCH ')
    after=$(cpu_ticks "$pid")
    [ "$(field unexpected)" = 0 ] || die "unexpected statuses: $line"
    per "$(((after - before) * 1000000))" "$((ticks * $(field matched)))" 1
}

say "warm-up"
load 3s >/dev/null
say "CPU per request without perf ($duration)"
plain=$(cpu_per_request "$duration")
if [ "${PROFILE_PERF:-1}" = 0 ]; then
    echo "scenario: $scenario (expected $expected), RUST_LOG=$rust_log, wrk 2 threads x 32 connections"
    echo "server CPU per request: $plain µs"
    exit 0
fi
say "perf record, flat ($duration)"
perf record -q -F 1999 -o "$out/flat.data" -p "$pid" -- sleep "${duration%s}" &
perf_pid=$!
profiled=$(cpu_per_request "$duration")
wait "$perf_pid"
say "perf record, DWARF call graph ($duration)"
perf record -q -F 999 --call-graph dwarf,16384 -o "$out/graph.data" -p "$pid" -- sleep "${duration%s}" &
perf_pid=$!
load "$duration" >/dev/null
wait "$perf_pid"

echo "scenario: $scenario (expected $expected), RUST_LOG=$rust_log, wrk 2 threads x 32 connections"
echo "server CPU per request: $plain µs without perf, $profiled µs under perf"
echo
echo "self time, top symbols:"
perf report -i "$out/flat.data" --no-children --sort symbol --stdio 2>/dev/null |
    grep -v '^#' | grep -v '^$' | sed -n '1,25p' | cut -c1-150
echo
echo "by library:"
perf report -i "$out/flat.data" --no-children --sort dso --stdio 2>/dev/null |
    grep -v '^#' | grep -v '^$' | sed -n '1,6p'
echo
echo "inclusive (children), entries over 3 %:"
perf report -i "$out/graph.data" --children --sort symbol --stdio -g none --percent-limit 3 2>/dev/null |
    grep -v '^#' | grep -v '^$' | sed -n '1,60p' | cut -c1-170
