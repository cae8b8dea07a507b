#!/usr/bin/env bash
# Benchmark of a generated server's hot path (see bench/README.md).
#
# Builds the CLI, generates the README's example server (tests/fixtures/readme.yaml,
# its URLs moved to http://127.0.0.1:<port> as tests/e2e does), builds it with
# --release, runs it statelessly against a Scalekit stand-in that serves the
# signing keys, and loads it with wrk over loopback only. Prints wrk's reports and
# a Markdown table of requests/s, p50/p99 latency and the server's peak RSS.
#
#   bench/run.sh
#   BENCH_DURATION=30s BENCH_CONNECTIONS=64 bench/run.sh
#
# Not part of CI: these are measurements, written down in bench/README.md, not
# pass/fail tests. The script exits non-zero if a scenario got a status it did
# not expect, so a broken scenario cannot pass for a fast one.
set -euo pipefail

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

require_tools
build_cli
port=$(free_port)
origin=http://127.0.0.1:$port
build_server "$port"
start_standin

say "starting the server on $origin (stateless, RUST_LOG=$rust_log)"
start_generated "$port" "$work/server.log"
server_pid=$started_pid

# Scenarios: name, expected status, method, URL path, body file, Authorization.
# The tokens end up on wrk's command line: they are the local stand-in's, good
# for an hour against this server only.
names=(
    "GET /.well-known/oauth-protected-resource/mcp (no token)"
    "POST /mcp without a token (401 challenge)"
    "tools/call list_todos, token with todo:read (200)"
    "tools/call list_todos, token without the scope (403)"
)
expected=(200 401 200 403)
methods=(GET POST POST POST)
paths=(/.well-known/oauth-protected-resource/mcp /mcp /mcp /mcp)
bodies=("" "$work/call.json" "$work/call.json" "$work/call.json")
auth=("" "" "Authorization: Bearer $read_token" "Authorization: Bearer $no_scope_token")

headers_for() {
    local i=$1
    if [ "${methods[$i]}" = POST ]; then printf '%s\0' "${mcp_headers[@]}"; fi
    if [ -n "${auth[$i]}" ]; then printf '%s\0' -H "${auth[$i]}"; fi
}

say "pre-flight: one request per scenario, checked before any load"
for i in "${!names[@]}"; do
    mapfile -d '' headers < <(headers_for "$i")
    args=(-s -o "$work/preflight.body" -w '%{http_code}' -X "${methods[$i]}" "${headers[@]}")
    [ -n "${bodies[$i]}" ] && args+=(--data-binary "@${bodies[$i]}")
    status=$(curl "${args[@]}" "$origin${paths[$i]}")
    [ "$status" = "${expected[$i]}" ] ||
        die "scenario $((i + 1)) (${names[$i]}) got $status, not ${expected[$i]}: $(cat "$work/preflight.body")"
    printf '  %s: %s\n' "$status" "${names[$i]}" >&2
done
# The tool really ran: its placeholder answer, not an error inside a 200.
check_tool_answer "$origin/mcp" "$read_token"

idle_rss=$(proc_kib "$server_pid" VmRSS)

rows=()
failed=0
for i in "${!names[@]}"; do
    say "scenario $((i + 1)): ${names[$i]} ($duration, $connections connections, $threads threads)"
    mapfile -d '' headers < <(headers_for "$i")
    wrk_args=(-t "$threads" -c "$connections" -d "$duration" --latency "${headers[@]}"
        -s "$repo/bench/wrk.lua" "$origin${paths[$i]}" -- "${expected[$i]}" "${methods[$i]}")
    [ -n "${bodies[$i]}" ] && wrk_args+=("${bodies[$i]}")
    wrk "${wrk_args[@]}" | tee "$work/wrk.out" >&2
    line=$(grep '^BENCH ' "$work/wrk.out") || die "wrk printed no summary line"
    kill -0 "$server_pid" 2>/dev/null || die "the server exited under load: $(tail -20 "$work/server.log")"
    # VmHWM is the peak resident set since the server started, so it only grows
    # from one scenario to the next.
    hwm=$(proc_kib "$server_pid" VmHWM)
    if [ "$(field unexpected)" != 0 ] || [ "$(field socket_errors)" != 0 ]; then
        printf 'warning: %s unexpected statuses (last %s), %s socket errors\n' \
            "$(field unexpected)" "$(field last_unexpected)" "$(field socket_errors)" >&2
        failed=1
    fi
    rows+=("$(printf '| %d. %s | %s | %.0f | %s | %s | %s | %s |' \
        $((i + 1)) "${names[$i]}" "${expected[$i]}" "$(field rps)" \
        "$(per "$(field p50_us)" 1000 2)" "$(per "$(field p99_us)" 1000 2)" \
        "$(field unexpected)" "$(per "$hwm" 1024 1)")")
done

say "results"
cat <<EOF
$(date -u +%Y-%m-%d), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
wrk $threads threads, $connections connections, $duration per scenario, 127.0.0.1, load generator on the same cores
server RSS before load: $(per "$idle_rss" 1024 1) MiB

| scenario | status | requests/s | p50 ms | p99 ms | other statuses | peak RSS after (MiB) |
| --- | --- | --- | --- | --- | --- | --- |
EOF
printf '%s\n' "${rows[@]}"
exit "$failed"
