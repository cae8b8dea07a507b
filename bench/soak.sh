#!/usr/bin/env bash
# Soak test of the generated server (see bench/README.md, "Soak").
#
# Builds the README example exactly as bench/run.sh does and runs it in its
# default session mode (the soak opens and closes MCP sessions, which a
# stateless server has none of) against the Scalekit stand-in. Then:
#
# 1. drives mixed traffic with wrk and bench/soak.lua for SOAK_DURATION
#    seconds: tools/call in long-lived sessions, refusals (no token, no scope,
#    forged token) and short sessions opened and closed; halfway through, the
#    stand-in rotates its signing key and the load moves to the new key's
#    tokens once the server accepts one; every status is counted per kind;
#    the server's resident set is sampled every second;
# 2. on a fresh instance, holds 200 sessions open at once (two principals at
#    the per-principal cap of 100), measures its resident set, checks the cap
#    refuses a 101st, closes them all and checks none is left;
# 3. prints a Markdown report to standard output (progress to standard error)
#    and exits 1 if anything was not as expected: a 5xx, any other unexpected
#    status, a socket error, a session left open, a panic or an error in the
#    server's log, a resident set that grew, or fewer requests than
#    SOAK_MIN_REQUESTS.
#
#   bench/soak.sh
#   SOAK_DURATION=24 SOAK_MIN_REQUESTS=0 bench/soak.sh    # a quick check (the warm-up must end before the rotation halfway)
#
# Takes /tmp/mcp-heavy.lock (flock) for the whole build and run, as
# bench/compare.sh does: a caller holding it through flock(1) is recognised,
# BENCH_NO_LOCK=1 skips it.
set -euo pipefail

# shellcheck source=bench/lock.sh
source "$(dirname "$0")/lock.sh"
take_lock "$@"

# Seconds of load (a trailing "s" is allowed, as wrk writes durations).
duration=${SOAK_DURATION:-60}
duration=${duration%s}
warmup=${SOAK_WARMUP:-10}
warmup=${warmup%s}
connections=${SOAK_CONNECTIONS:-100}
threads=${SOAK_THREADS:-2}
min_requests=${SOAK_MIN_REQUESTS:-200000}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

for value in "$duration" "$warmup" "$connections" "$threads" "$min_requests"; do
    [[ $value =~ ^[0-9]+$ ]] || die "SOAK_DURATION, SOAK_WARMUP, SOAK_CONNECTIONS, SOAK_THREADS and SOAK_MIN_REQUESTS are whole numbers"
done
[ "$warmup" -lt $((duration / 2)) ] || die "SOAK_WARMUP ($warmup s) must end before the key rotation, halfway through SOAK_DURATION ($duration s)"
if [ "$threads" -lt 1 ] || [ "$connections" -lt "$threads" ]; then
    die "SOAK_CONNECTIONS must be at least SOAK_THREADS, and that at least 1"
fi
# The server's default cap of sessions per principal. A wrk thread has
# connections / threads connections (wrk drops the remainder) and as many
# long-lived sessions; its short sessions are at most one per connection.
cap=100
per_thread=$((connections / threads))
[ "$per_thread" -le "$cap" ] ||
    die "$per_thread connections per wrk thread would take a principal past the cap of $cap sessions: raise SOAK_THREADS"
# Session mode; metrics (mcp_sessions_active) on ports of the script's own,
# given to each instance below, whatever BENCH_METRICS says.
server_stateless=false
metrics=
clock_ticks=$(getconf CLK_TCK)
protocol=2025-11-25
call_json='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_todos","arguments":{}}}'
init_json='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'$protocol'","capabilities":{},"clientInfo":{"name":"soak","version":"1"}}}'
failures=()
fail() {
    printf 'FAILED: %s\n' "$*" >&2
    failures+=("$*")
}

# auth_file TOKENS_FILE NAME: a curl header file (-H @FILE) carrying that
# token, so that tokens stay off command lines.
auth_file() {
    local file
    file=$work/auth.$(basename "$1").${2//[^a-z0-9-]/_}
    awk -v name="$2" '$1 == name { print "Authorization: Bearer " $2 }' "$1" >"$file"
    [ -s "$file" ] || die "no token $2 in $1"
    echo "$file"
}
# post URL BODY [CURL_ARGS...]: prints the status of a POST of BODY; the
# answer's headers and body are in $work/last.headers and $work/last.body.
post() {
    local url=$1 body=$2
    shift 2
    curl -s -o "$work/last.body" -D "$work/last.headers" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -H "MCP-Protocol-Version: $protocol" "$@" --data-binary "$body" "$url"
}
# metric METRICS_URL NAME [REGEX]: the sum of NAME's samples whose labels match REGEX.
metric() {
    curl -sf "$1/metrics" | awk -v name="$2" -v re="${3:-}" '
        { split($1, parts, "{") } parts[1] == name && $1 ~ re { sum += $2 } END { print sum + 0 }'
}
# sessions open|close URL TOKENS_FILE SUBJECT [COUNT]: bench/sessions.mjs.
sessions() { node "$repo/bench/sessions.mjs" "$@"; }
mib() { per "$1" 1024 1; }

require_tools
build_cli
port=$(free_port)
build_server "$port"
subjects=()
for i in $(seq "$threads"); do subjects+=("calls-$i" "sessions-$i"); done
subjects+=(hold-1 hold-2 hold-3)
tokens=$work/tokens
start_standin "$tokens" "${subjects[@]}"

metrics_port=$(free_port)
metrics_url=http://127.0.0.1:$metrics_port
mcp_url=http://127.0.0.1:$port/mcp
say "starting the server on 127.0.0.1:$port (session mode, RUST_LOG=$rust_log, MCP_AUTH_FAILURES_PER_MINUTE=1000000, metrics on 127.0.0.1:$metrics_port)"
server_started_us=${EPOCHREALTIME/./}
start_generated "$port" "$work/server.log" MCP_AUTH_FAILURES_PER_MINUTE=1000000 MCP_METRICS_ADDR="127.0.0.1:$metrics_port"
server_pid=$started_pid

say "pre-flight: each kind of request once, checked before any load"
# expect WHAT STATUS GOT [HEADER_REGEX]: GOT is STATUS and the answer's headers match.
expect() {
    [ "$3" = "$2" ] || die "$1 got $3, not $2: $(head -c 300 "$work/last.body")"
    [ -z "${4:-}" ] || grep -qiE "$4" "$work/last.headers" || die "$1 got $3 without a header matching $4"
    printf '  %s: %s\n' "$3" "$1" >&2
}
expect "tools/call without a token" 401 "$(post "$mcp_url" "$call_json")" '^www-authenticate: bearer resource_metadata='
expect "tools/call, token without the scope" 403 "$(post "$mcp_url" "$call_json" -H "@$(auth_file "$tokens" no_scope)")" \
    '^www-authenticate: bearer error="insufficient_scope"'
expect "tools/call, forged token" 401 "$(post "$mcp_url" "$call_json" -H "@$(auth_file "$tokens" forged)")" \
    '^www-authenticate: bearer error="invalid_token"'
sessions open "$mcp_url" "$tokens" sessions-1 1 >"$work/preflight.ids"
sessions close "$mcp_url" "$tokens" sessions-1 <"$work/preflight.ids"
printf '  200, 202, 200, 202: initialize, notifications/initialized, tools/call, DELETE\n' >&2

say "opening the long-lived sessions of the tools/call load: $per_thread per wrk thread"
call_sessions=$work/call-sessions
for i in $(seq "$threads"); do
    sessions open "$mcp_url" "$tokens" "calls-$i" "$per_thread" | sed "s/^/calls-$i /" >>"$call_sessions"
done
long_lived=$(wc -l <"$call_sessions")
[ "$(metric "$metrics_url" mcp_sessions_active)" = "$long_lived" ] ||
    die "mcp_sessions_active is $(metric "$metrics_url" mcp_sessions_active), not the $long_lived sessions just opened"
# The server fetches its keys as it starts, and on an unknown kid refetches
# at most once per 30 s after a fetch: the load starts late enough for its
# middle, the rotation, to come 31 s after the start, so the refetch is
# allowed at once.
pause=$((31 - duration / 2 - (${EPOCHREALTIME/./} - server_started_us) / 1000000))
if [ "$pause" -gt 0 ]; then
    say "waiting $pause s, so that the key rotation comes 31 s after the server's start-up key fetch"
    sleep "$pause"
fi

idle_rss=$(proc_kib "$server_pid" VmRSS)

# rotate_key T: the stand-in serves a new key beside the old one; one call
# with a token of the new key, repeated until the server accepts it (it
# refetches keys on an unknown kid, at most once per 30 s), and only then the
# load moves to the new key's tokens (SWITCH_FILE), so no request of the load
# can reach the server before it knows the new key.
rotate_key() {
    local auth probe_session status
    say "t=$1 s: rotating the signing key"
    kill -USR1 "$standin_pid"
    for _ in $(seq 100); do
        [ -s "$tokens.rotated" ] && break
        sleep 0.1
    done
    [ -s "$tokens.rotated" ] || die "the stand-in wrote no tokens for its new key: $(cat "$work/standin.log")"
    auth=$(auth_file "$tokens.rotated" read:calls-1)
    probe_session=$(awk '$1 == "calls-1" { print $2; exit }' "$call_sessions")
    probe_statuses=()
    while status=$(post "$mcp_url" "$call_json" -H "@$auth" -H "Mcp-Session-Id: $probe_session") && [ "$status" != 200 ]; do
        probe_statuses+=("$status")
        [ "${#probe_statuses[@]}" -lt 80 ] || die "the server did not accept the new key's token in 40 s: statuses ${probe_statuses[*]}"
        sleep 0.5
    done
    grep -q 'is not implemented yet' "$work/last.body" || die "the call with the new key's token did not return the tool's answer: $(head -c 300 "$work/last.body")"
    probe_statuses+=(200)
    cp "$tokens.rotated" "$work/switch.tmp"
    mv "$work/switch.tmp" "$work/switch"
    rotated_at=$1
    printf '  the new key was accepted after %d request(s) (%s); the load switched\n' \
        "${#probe_statuses[@]}" "${probe_statuses[*]}" >&2
}

say "soak: $duration s of load (warm-up $warmup s), wrk $threads threads, $connections connections"
samples=$work/samples.tsv
start_us=${EPOCHREALTIME/./}
# sample: elapsed ms, server VmRSS KiB, server CPU ticks, wrk CPU ticks, busy ticks.
sample() {
    printf '%d\t%s\t%s\t%s\t%s\n' $(((${EPOCHREALTIME/./} - start_us) / 1000)) \
        "$(proc_kib "$server_pid" VmRSS)" "$(cpu_ticks "$server_pid")" "$wrk_ticks" "$(busy_ticks)" >>"$samples"
}
wrk_ticks=0
sample
# Two seconds past the load for the threads to close their open sessions and stop.
wrk -t "$threads" -c "$connections" -d "$((duration + 2))s" -s "$repo/bench/soak.lua" "$mcp_url" -- \
    "$tokens" "$work/switch" "$call_sessions" "$duration" >"$work/wrk.out" 2>&1 &
wrk_pid=$!
pids+=("$wrk_pid")
rotated_at=
while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 1
    # wrk's CPU only grows, and reads 0 once it has exited: keep the largest.
    if ticks=$(cpu_ticks "$wrk_pid" 2>/dev/null) && [ "$ticks" -gt "$wrk_ticks" ]; then wrk_ticks=$ticks; fi
    kill -0 "$server_pid" 2>/dev/null || die "the server exited under load: $(tail -20 "$work/server.log")"
    sample
    elapsed=$(((${EPOCHREALTIME/./} - start_us) / 1000000))
    if [ -z "$rotated_at" ] && [ "$elapsed" -ge $((duration / 2)) ]; then
        rotate_key "$elapsed"
    fi
done
wait "$wrk_pid" || die "wrk failed: $(cat "$work/wrk.out")"
sample
cat "$work/wrk.out" >&2
[ -n "$rotated_at" ] || die "the load ended before the key rotation"
line=$(grep '^SOAK ' "$work/wrk.out") || die "wrk printed no summary line"

# Per kind: the requests by key and status, from soak.lua's SOAK_COUNT lines
# (kind, expected status, key, status, count).
grep '^SOAK_COUNT ' "$work/wrk.out" >"$work/counts" || die "wrk counted no responses"
kinds=(call no_token no_scope forged open initialized in_session close)
declare -A describe=(
    [call]="tools/call list_todos in a long-lived session"
    [no_token]="tools/call without a token"
    [no_scope]="tools/call, token without todo:read"
    [forged]="tools/call, forged token (known kid, bad signature)"
    [open]="session: initialize"
    [initialized]="session: notifications/initialized"
    [in_session]="session: tools/call list_todos"
    [close]="session: DELETE"
)
# count KIND [KEY]: the responses to requests of KIND (sent with KEY's tokens).
count() {
    awk -v kind="$1" -v key="${2:-}" '$2 == kind && (key == "" || $4 == key) { n += $6 } END { print n + 0 }' "$work/counts"
}
total=$(awk '{ n += $6 } END { print n + 0 }' "$work/counts")
server_errors=$(awk '$5 >= 500 { n += $6 } END { print n + 0 }' "$work/counts")
unexpected=$(awk '$5 != $3 { n += $6 } END { print n + 0 }' "$work/counts")
unexpected_list=$(awk '$5 != $3 { printf "%s%s got %s: %d", sep, $2, $5, $6; sep = "; " }' "$work/counts")
[ "$server_errors" = 0 ] || fail "$server_errors responses with a 5xx status"
[ "$unexpected" = 0 ] || fail "$unexpected responses with an unexpected status ($unexpected_list)"
for name in socket_errors wrong_answers unmatched unanswered_opens; do
    [ "$(field "$name")" = 0 ] || fail "$name: $(field "$name")"
done
for kind in "${kinds[@]}"; do
    [ "$(count "$kind" 2)" -gt 0 ] || fail "no $kind request was sent with the new key's tokens"
done
[ "$total" -ge "$min_requests" ] || fail "$total requests, fewer than SOAK_MIN_REQUESTS=$min_requests: raise SOAK_DURATION"

# Short sessions a thread left open (only if the load ended before it closed
# them): closed here, so that the count below can reach 0; a failure anyway.
left_open=$(grep -c '^SOAK_OPEN ' "$work/wrk.out" || true)
if [ "$left_open" != 0 ]; then
    fail "$left_open short sessions were left open when wrk stopped"
    for i in $(seq "$threads"); do
        awk -v p="sessions-$i" '$1 == "SOAK_OPEN" && $2 == p { print $3 }' "$work/wrk.out" |
            sessions close "$mcp_url" "$tokens.rotated" "sessions-$i"
    done
fi
after_load_rss=$(proc_kib "$server_pid" VmRSS)
sessions_after_load=$(metric "$metrics_url" mcp_sessions_active)
say "closing the long-lived sessions, with the new key's tokens"
for i in $(seq "$threads"); do
    awk -v p="calls-$i" '$1 == p { print $2 }' "$call_sessions" | sessions close "$mcp_url" "$tokens.rotated" "calls-$i"
done
sessions_closed=$(metric "$metrics_url" mcp_sessions_active)
[ "$sessions_closed" = 0 ] || fail "mcp_sessions_active is $sessions_closed after every session was closed"
server_5xx=$(metric "$metrics_url" mcp_http_requests_total 'status="5')
[ "$server_5xx" = 0 ] || fail "the server counted $server_5xx responses with a 5xx status"
jwks_fetches=$(metric "$metrics_url" mcp_jwks_fetches_total)
jwks_keys=$(metric "$metrics_url" mcp_jwks_keys)
[ "$jwks_keys" = 2 ] || fail "the server holds $jwks_keys signing keys after the rotation, not 2"

# Resident set: start = the first sample after the warm-up, middle = the
# sample just before the rotation, end = the last sample of the load.
# Flat: middle and end at most 10 % above start.
first_rss_from() { awk -F'\t' -v ms="$1" '$1 >= ms { print $2; exit }' "$samples"; }
last_rss_before() { awk -F'\t' -v ms="$1" '$1 < ms { v = $2 } END { print v }' "$samples"; }
start_rss=$(first_rss_from $((warmup * 1000)))
mid_rss=$(last_rss_before $(((rotated_at + 1) * 1000)))
end_rss=$(last_rss_before $((duration * 1000)))
flat=$(awk -v s="$start_rss" -v m="$mid_rss" -v e="$end_rss" 'BEGIN { print (m <= 1.1 * s && e <= 1.1 * s) ? "yes" : "no" }')
[ "$flat" = yes ] || fail "the resident set grew: $(mib "$start_rss") MiB after the warm-up, $(mib "$mid_rss") at the middle, $(mib "$end_rss") at the end (limit: 10 % above the first)"

panics=$(grep -c 'panicked' "$work/server.log" || true)
log_errors=$(grep -c '"level":"ERROR"' "$work/server.log" || true)
if [ "$panics" != 0 ] || [ "$log_errors" != 0 ]; then
    fail "the server's log has $panics panic(s) and $log_errors error line(s): $(grep -m 3 -e panicked -e '"level":"ERROR"' "$work/server.log")"
fi
log_lines=$(wc -l <"$work/server.log")
log_warnings=$(grep -c '"level":"WARN"' "$work/server.log" || true)

# CPU over the whole run, from the first sample to the last.
read -r cpu_server cpu_wrk cpu_rest < <(awk -v hz="$clock_ticks" -v d="$duration" -F'\t' '
    NR == 1 { s = $3; w = $4; b = $5 } { s2 = $3; w2 = $4; b2 = $5 }
    END { server = (s2 - s) / hz; wrk = (w2 - w) / hz; printf "%.2f %.2f %.2f\n", server / d, wrk / d, ((b2 - b) / hz - server - wrk) / d }' "$samples")
cpu_per_request=$(awk -v hz="$clock_ticks" -v n="$total" -F'\t' 'NR == 1 { s = $3 } { s2 = $3 } END { printf "%.0f", (s2 - s) / hz * 1e6 / n }' "$samples")

say "200 sessions held open at once, on a fresh instance"
held_port=$(free_port)
held_metrics_port=$(free_port)
held_metrics_url=http://127.0.0.1:$held_metrics_port
held_url=http://127.0.0.1:$held_port/mcp
start_generated "$held_port" "$work/held.log" MCP_METRICS_ADDR="127.0.0.1:$held_metrics_port"
held_pid=$started_pid
held_idle_rss=$(proc_kib "$held_pid" VmRSS)
# Two principals at the cap, opened all at once (each process opens its 100
# concurrently).
sessions open "$held_url" "$tokens" hold-1 "$cap" >"$work/held-1.ids" &
opening=$!
pids+=("$opening")
sessions open "$held_url" "$tokens" hold-2 "$cap" >"$work/held-2.ids" || die "hold-2 could not open $cap sessions"
wait "$opening" || die "hold-1 could not open $cap sessions"
held_open=$(metric "$held_metrics_url" mcp_sessions_active)
held_rss=$(proc_kib "$held_pid" VmRSS)
[ "$held_open" = $((2 * cap)) ] || fail "mcp_sessions_active is $held_open with $((2 * cap)) sessions open"
[ "$held_rss" -le $((100 * 1024)) ] || fail "the server's resident set is $(mib "$held_rss") MiB with $held_open sessions open, above 100 MiB"
# The cap: a 101st initialize of a principal at it gets 429; a third principal is not affected.
cap_status=$(post "$held_url" "$init_json" -H "@$(auth_file "$tokens" read:hold-1)")
cap_body=$(head -c 300 "$work/last.body")
if [ "$cap_status" != 429 ] || [[ $cap_body != *too_many_sessions* ]]; then
    fail "a 101st initialize of hold-1 got $cap_status ($cap_body), not 429 too_many_sessions"
fi
sessions open "$held_url" "$tokens" hold-3 1 >"$work/held-3.ids" || fail "a third principal could not open a session beside two at the cap"
sessions close "$held_url" "$tokens" hold-3 <"$work/held-3.ids"
sessions close "$held_url" "$tokens" hold-1 <"$work/held-1.ids" &
closing=$!
pids+=("$closing")
sessions close "$held_url" "$tokens" hold-2 <"$work/held-2.ids" || fail "hold-2's sessions could not all be closed"
wait "$closing" || fail "hold-1's sessions could not all be closed"
held_closed=$(metric "$held_metrics_url" mcp_sessions_active)
held_after_rss=$(proc_kib "$held_pid" VmRSS)
[ "$held_closed" = 0 ] || fail "mcp_sessions_active is $held_closed after the $held_open sessions were closed"
held_panics=$(grep -c -e 'panicked' -e '"level":"ERROR"' "$work/held.log" || true)
[ "$held_panics" = 0 ] || fail "the second instance's log has $held_panics panic or error line(s)"

say "report"
cat <<EOF
## Soak run, $(date -u '+%Y-%m-%d %H:%M UTC')

$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(rustc --version), Node.js $(node --version), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2).
Server: the README example, release build, session mode, RUST_LOG=$rust_log, MCP_AUTH_FAILURES_PER_MINUTE=1000000, metrics on.
Load: wrk $threads threads, $connections connections, $duration s (warm-up $warmup s), bench/soak.lua, on the same cores as the server.

| kind | expected | before the switch (key 1) | after (key 2) | all | other statuses |
| --- | --- | --- | --- | --- | --- |
EOF
for kind in "${kinds[@]}"; do
    others=$(awk -v k="$kind" '$2 == k && $5 != $3 { printf "%s%s: %d", sep, $5, $6; sep = ", " }' "$work/counts")
    printf '| %s | %s | %d | %d | %d | %s |\n' "${describe[$kind]}" \
        "$(awk -v k="$kind" '$2 == k { print $3; exit }' "$work/counts")" \
        "$(count "$kind" 1)" "$(count "$kind" 2)" "$(count "$kind")" "${others:-none}"
done
printf '| **all** | | %d | %d | %d | %d |\n\n' "$(awk '$4 == 1 { n += $6 } END { print n + 0 }' "$work/counts")" \
    "$(awk '$4 == 2 { n += $6 } END { print n + 0 }' "$work/counts")" "$total" "$unexpected"
cat <<EOF
- Requests answered: $total in $duration s of load ($(per "$total" "$duration" 0)/s), latency p50 $(per "$(field p50_us)" 1000 2) ms, p99 $(per "$(field p99_us)" 1000 2) ms (all kinds together).
- 5xx: $server_errors (the server's own count: $server_5xx). Other unexpected statuses: $unexpected. Socket errors: $(field socket_errors). 200s without the tool's answer: $(field wrong_answers). Answers not matched to a request: $(field unmatched).
- Key rotation at t = $rotated_at s: the server accepted the new key's token on request ${#probe_statuses[@]} of the probe (statuses: ${probe_statuses[*]}); the load switched after that. Key fetches by the server over its life: $jwks_fetches; keys held at the end: $jwks_keys.
- Sessions: $long_lived long-lived (opened before the load, closed after it with the new key's tokens), $(count close) short ones opened and closed; left open by the load: $left_open; mcp_sessions_active after the load $sessions_after_load, after closing the long-lived ones $sessions_closed.
- CPU, in cores over the $duration s: server $cpu_server ($cpu_per_request µs per request), wrk $cpu_wrk, the rest $cpu_rest.
- Resident set (VmRSS): $(mib "$idle_rss") MiB before the load; $(mib "$start_rss") after the $warmup s warm-up (start), $(mib "$mid_rss") before the rotation (middle), $(mib "$end_rss") at the end of the load (end), $(mib "$after_load_rss") after it. Flat (middle and end at most 10 % above start): $flat.
- Server log: $log_lines lines, $log_warnings warnings, $log_errors errors, $panics panics.

Resident set during the load, the first sample of every 5 s:

$(awk -F'\t' 'NR > 1 && int($1 / 5000) != last { last = int($1 / 5000); head = head sprintf(" | %.0f", $1 / 1000); rule = rule " | ---"; row = row sprintf(" | %.1f", $2 / 1024) }
    END { print "| t (s)" head " |"; print "| ---" rule " |"; print "| VmRSS (MiB)" row " |" }' "$samples")

## 200 sessions held open

- A fresh instance: $(mib "$held_idle_rss") MiB resident before; $held_open sessions open at once (principals hold-1 and hold-2, $cap each, the cap): $(mib "$held_rss") MiB (limit 100 MiB); after closing them all: $(mib "$held_after_rss") MiB, mcp_sessions_active $held_closed.
- The cap: a 101st initialize of hold-1 got $cap_status; a third principal opened and closed a session beside them.
EOF

if [ "${#failures[@]}" != 0 ]; then
    printf '\nFAILED:\n'
    printf -- '- %s\n' "${failures[@]}"
    exit 1
fi
printf '\nAll checks passed.\n'
