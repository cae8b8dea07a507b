#!/usr/bin/env bash
# The generated server side by side with the same example written on the
# official MCP TypeScript SDK (bench/peer), under the same wrk load (see
# bench/README.md, "Side by side with the TypeScript SDK").
#
# Builds and starts the README example exactly as bench/run.sh does, starts the
# peer, both against one Scalekit stand-in, checks every scenario once with curl,
# then runs wrk on them in alternated rounds (ours, peer, ours, peer, ...) and
# prints a Markdown table of the medians and every round's numbers.
#
#   bench/compare.sh
#   BENCH_DURATION=5s BENCH_ROUNDS=2 bench/compare.sh
#
# It takes /tmp/mcp-heavy.lock (flock) for the whole build and measurement, so
# no other heavy job shares the cores; it waits while another holds it. A caller
# that already holds the lock through flock(1) is recognised; BENCH_NO_LOCK=1
# skips the lock. Exits non-zero if any run got a status it did not expect or a
# socket error.
set -euo pipefail

# shellcheck source=bench/lock.sh
source "$(dirname "$0")/lock.sh"
take_lock "$@"

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
rounds=${BENCH_ROUNDS:-3}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

peer_dir=$repo/bench/peer
clock_ticks=$(getconf CLK_TCK)
# wrk's own user and system CPU seconds, from bash's `time`.
TIMEFORMAT='%3U %3S'

require_tools
command -v npm >/dev/null || die "npm is needed for the TypeScript SDK peer (bench/peer)"
build_cli
port=$(free_port)
build_server "$port"

# `npm ci` only when node_modules is missing or was installed from another
# lockfile (as tests/e2e.rs does): the stamp is the lockfile it installed.
stamp=$peer_dir/node_modules/.mcp-oauth-new-package-lock.json
if ! cmp -s "$peer_dir/package-lock.json" "$stamp"; then
    say "npm ci in bench/peer"
    (cd "$peer_dir" && npm ci --no-audit --no-fund >&2)
    cp "$peer_dir/package-lock.json" "$stamp"
fi
package_version() {
    node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version' \
        "$peer_dir/node_modules/$1/package.json"
}

start_standin

# ours: the generated server, its failed-auth limiter high enough that forged
# tokens get 401, not 429. limited: a second one with the default limit, for
# the 429 scenario. peer: the TypeScript SDK server.
declare -A urls labels server_pids logs
say "starting the generated server on 127.0.0.1:$port (stateless, RUST_LOG=$rust_log)"
# start_ours NAME PORT [VAR=VALUE...]: a generated server under NAME.
start_ours() {
    local name=$1 port=$2
    shift 2
    logs[$name]=$work/$name.log
    start_generated "$port" "${logs[$name]}" "$@"
    server_pids[$name]=$started_pid
    urls[$name]=http://127.0.0.1:$port
    labels[$name]="generated (Rust)"
}
start_ours ours "$port" MCP_AUTH_FAILURES_PER_MINUTE=1000000

limited_port=$(free_port)
say "starting a second generated server on 127.0.0.1:$limited_port (default failed-auth limit)"
start_ours limited "$limited_port"

peer_port=$(free_port)
say "starting the TypeScript SDK peer on 127.0.0.1:$peer_port"
logs[peer]=$work/peer.log
urls[peer]=http://127.0.0.1:$peer_port
# NODE_ENV=production, as a deployment sets it (Express reads it).
env -i PATH="$PATH" NODE_ENV=production MCP_LISTEN_ADDR="127.0.0.1:$peer_port" \
    MCP_SERVER_URL="${urls[peer]}" SCALEKIT_ENVIRONMENT_URL="$standin_url" \
    SCALEKIT_RESOURCE_ID="$resource_id" node "$peer_dir/server.mjs" >"${logs[peer]}" 2>&1 &
server_pids[peer]=$!
pids+=("${server_pids[peer]}")
wait_for "${urls[peer]}/.well-known/oauth-protected-resource/mcp" "${server_pids[peer]}" "${logs[peer]}"
labels[peer]="TS SDK (Express)"

# Scenarios: name, expected status, method, URL path, Authorization, servers.
# The tokens end up on wrk's command line: they are the local stand-in's, good
# for an hour against these servers only.
names=(
    "GET /.well-known/oauth-protected-resource/mcp (no token)"
    "POST /mcp without a token (401 challenge)"
    "tools/call list_todos, token with todo:read (200)"
    "tools/call list_todos, token without the scope (403)"
    "tools/call, forged token: bad signature (401)"
    "tools/call, forged token, default failed-auth limit (429)"
)
expected=(200 401 200 403 401 429)
methods=(GET POST POST POST POST POST)
paths=(/.well-known/oauth-protected-resource/mcp /mcp /mcp /mcp /mcp /mcp)
auth=("" ""
    "Authorization: Bearer $read_token"
    "Authorization: Bearer $no_scope_token"
    "Authorization: Bearer $forged_token"
    "Authorization: Bearer $forged_token")
# The peer has no failed-auth limiter, so the 429 scenario is ours alone.
targets=("ours peer" "ours peer" "ours peer" "ours peer" "ours peer" limited)
limited_scenario=5

headers_for() {
    local i=$1
    if [ "${methods[$i]}" = POST ]; then printf '%s\0' "${mcp_headers[@]}"; fi
    if [ -n "${auth[$i]}" ]; then printf '%s\0' -H "${auth[$i]}"; fi
}

# preflight I SERVER: prints the status of one request of scenario I.
preflight() {
    local args
    mapfile -d '' headers < <(headers_for "$1")
    args=(-s -D "$work/preflight.headers" -o "$work/preflight.body" -w '%{http_code}' -X "${methods[$1]}" "${headers[@]}")
    [ "${methods[$1]}" = POST ] && args+=(--data-binary "@$work/call.json")
    curl "${args[@]}" "${urls[$2]}${paths[$1]}"
}

say "pre-flight: one request per scenario and server, checked before any load"
for i in "${!names[@]}"; do
    [ "$i" = "$limited_scenario" ] && continue
    for server in ${targets[$i]}; do
        status=$(preflight "$i" "$server") || true
        [ "$status" = "${expected[$i]}" ] ||
            die "scenario $((i + 1)) (${names[$i]}) got $status from ${labels[$server]}, not ${expected[$i]}: $(cat "$work/preflight.body")"
        # Refusals carry an RFC 6750 challenge; a 403 names the missing scope.
        case $status in
        401) grep -qi '^www-authenticate: bearer ' "$work/preflight.headers" ;;
        403) grep -qi '^www-authenticate: bearer error="insufficient_scope", scope="todo:read"' "$work/preflight.headers" ;;
        esac || die "scenario $((i + 1)) got $status from ${labels[$server]} without the expected WWW-Authenticate challenge"
        printf '  %s: %s, %s\n' "$status" "${names[$i]}" "${labels[$server]}" >&2
    done
done
for server in ours peer; do
    check_tool_answer "${urls[$server]}/mcp" "$read_token"
done
# The limiter answers 401 to the first invalid tokens of a window, then 429:
# count the 401s, which also starts a window for the first run.
limit=0
while status=$(preflight "$limited_scenario" limited) && [ "$status" = 401 ]; do
    limit=$((limit + 1))
    [ "$limit" -le 1000 ] || die "the default failed-auth limit answered no 429 after 1000 forged tokens"
done
[ "$status" = 429 ] || die "scenario $((limited_scenario + 1)) got $status, not 429 or 401: $(cat "$work/preflight.body")"
printf '  429: %s, after %d forged tokens answered 401\n' "${names[$limited_scenario]}" "$limit" >&2

# status_count CODE: how many responses had CODE, from wrk.lua's statuses=.
status_count() {
    local count
    count=$(tr ',' '\n' <<<"$(field statuses)" | sed -n "s/^$1://p")
    echo "${count:-0}"
}

results=$work/results.tsv
: >"$results"
failed=0
# measure ROUND I SERVER: one wrk run; appends a line to $results.
measure() {
    local round=$1 i=$2 server=$3
    local pid=${server_pids[$3]} before after busy_before busy_after tolerated=0
    local -a headers wrk_args wrk_cpu
    say "round $round/$rounds, scenario $((i + 1)): ${names[$i]}, ${labels[$server]} ($duration, $connections connections, $threads threads)"
    mapfile -d '' headers < <(headers_for "$i")
    wrk_args=(-t "$threads" -c "$connections" -d "$duration" --latency "${headers[@]}"
        -s "$repo/bench/wrk.lua" "${urls[$server]}${paths[$i]}" -- "${expected[$i]}" "${methods[$i]}")
    [ "${methods[$i]}" = POST ] && wrk_args+=("$work/call.json")
    # Resets VmHWM to the current resident set, so the peak read after is this run's.
    echo 5 >"/proc/$pid/clear_refs"
    before=$(cpu_ticks "$pid")
    busy_before=$(busy_ticks)
    { time wrk "${wrk_args[@]}" >"$work/wrk.out" 2>&1; } 2>"$work/wrk.time" ||
        die "wrk failed: $(cat "$work/wrk.out")"
    busy_after=$(busy_ticks)
    after=$(cpu_ticks "$pid")
    cat "$work/wrk.out" >&2
    line=$(grep '^BENCH ' "$work/wrk.out") || die "wrk printed no summary line"
    kill -0 "$pid" 2>/dev/null || die "${labels[$server]} exited under load: $(tail -20 "${logs[$server]}")"
    read -r -a wrk_cpu <"$work/wrk.time"

    # Each failed-auth window (60 s) of the limited server begins with up to
    # `limit` 401s, plus those of requests already past the limiter's check
    # when it fills: that many are tolerated, and no other status.
    if [ "$i" = "$limited_scenario" ]; then
        tolerated=$(status_count 401)
        [ "$tolerated" -le $(((limit + connections) * ($(field duration_us) / 60000000 + 1))) ] || tolerated=0
    fi
    if [ "$(field socket_errors)" != 0 ] || [ "$(($(field unexpected) - tolerated))" != 0 ]; then
        printf 'warning: statuses %s (expected %s), %s socket errors\n' \
            "$(field statuses)" "${expected[$i]}" "$(field socket_errors)" >&2
        failed=1
    fi
    awk -v OFS='\t' -v round="$round" -v i="$i" -v server="$server" -v rps="$(field rps)" \
        -v p50="$(field p50_us)" -v p99="$(field p99_us)" -v requests="$(field requests)" \
        -v duration_us="$(field duration_us)" -v ticks=$((after - before)) -v hz="$clock_ticks" \
        -v busy=$((busy_after - busy_before)) -v hwm="$(proc_kib "$pid" VmHWM)" \
        -v wrk_user="${wrk_cpu[0]}" -v wrk_sys="${wrk_cpu[1]}" -v statuses="$(field statuses)" 'BEGIN {
            seconds = duration_us / 1e6
            cpu = ticks / hz
            wrk = wrk_user + wrk_sys
            print round, i, server, rps, p50 / 1000, p99 / 1000, cpu * 1e6 / requests,
                cpu / seconds, hwm / 1024, wrk / seconds, (busy / hz - cpu - wrk) / seconds, statuses
        }' >>"$results"
}

for round in $(seq "$rounds"); do
    for i in "${!names[@]}"; do
        for server in ${targets[$i]}; do
            measure "$round" "$i" "$server"
        done
    done
done

# Columns of $results: 1 round, 2 scenario, 3 server, 4 req/s, 5 p50 ms,
# 6 p99 ms, 7 server CPU µs per request, 8 server CPU cores, 9 peak RSS MiB,
# 10 wrk CPU cores, 11 the rest of the machine's CPU cores, 12 statuses.
formats=([4]=%.0f [5]=%.2f [6]=%.2f [7]=%.1f [8]=%.2f [9]=%.1f [10]=%.2f [11]=%.2f)
median() {
    sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# cells I SERVER: the median of each measured column over the rounds.
cells() {
    local column value
    for column in "${!formats[@]}"; do
        value=$(awk -F'\t' -v i="$1" -v s="$2" -v c="$column" '$2 == i && $3 == s { print $c }' "$results" | median)
        # shellcheck disable=SC2059 # the formats are the script's own
        printf " | ${formats[$column]}" "$value"
    done
}

say "results"
cat <<EOF
$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))
$(rustc --version), Node.js $(node --version), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)
peer: @modelcontextprotocol/sdk $(package_version @modelcontextprotocol/sdk), express $(package_version express), jose $(package_version jose), zod $(package_version zod)
wrk $threads threads, $connections connections, $duration per run, $rounds rounds, 127.0.0.1;
wrk runs on the same $(nproc) cores as the servers: the server's, wrk's and the rest's CPU cores add up to how busy the machine was
(the rest: loopback networking charged to neither, the idle processes, anything else running).
generated server: RUST_LOG=$rust_log; MCP_AUTH_FAILURES_PER_MINUTE=1000000 except in scenario $((limited_scenario + 1)) (a second instance, default limit: $limit)

Median over the rounds:

| scenario | server | status | req/s | p50 ms | p99 ms | server CPU µs/req | server CPU cores | peak RSS MiB | wrk CPU cores | rest CPU cores |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
for i in "${!names[@]}"; do
    for server in ${targets[$i]}; do
        printf '| %d. %s | %s | %s%s |\n' $((i + 1)) "${names[$i]}" "${labels[$server]}" "${expected[$i]}" "$(cells "$i" "$server")"
    done
done

cat <<EOF

Every run (statuses: what wrk counted):

| round | scenario | server | req/s | p50 ms | p99 ms | server CPU µs/req | server CPU cores | peak RSS MiB | wrk CPU cores | rest CPU cores | statuses |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
while IFS=$'\t' read -r round i server rps p50 p99 cpu cores rss wrk_cores rest statuses; do
    printf '| %d | %d | %s | %.0f | %.2f | %.2f | %.1f | %.2f | %.1f | %.2f | %.2f | %s |\n' \
        "$round" $((i + 1)) "${labels[$server]}" "$rps" "$p50" "$p99" "$cpu" "$cores" "$rss" "$wrk_cores" "$rest" "$statuses"
done <"$results"
exit "$failed"
