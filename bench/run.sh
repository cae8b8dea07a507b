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

repo=$(cd "$(dirname "$0")/.." && pwd)
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
# The generated server logs every refused request and every tool call at info,
# as it would in production; BENCH_RUST_LOG=warn shows what that costs.
rust_log=${BENCH_RUST_LOG:-info,rmcp=warn}
# BENCH_METRICS=1 serves Prometheus metrics (MCP_METRICS_ADDR on another
# loopback port), as a production deployment would; unset, none are recorded.
metrics=${BENCH_METRICS:-}
# Release artifacts apart from target/debug and the tests' target/generated.
bench_target=$repo/target/bench

# Two cores: one heavy build at a time, and no incremental artifacts to bloat target/.
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-oauth-bench.XXXXXX")
pids=()
# Every process started here is ended on any exit, including Ctrl-C and failures.
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "Node.js 20+ is needed for the Scalekit stand-in (bench/standin.mjs)"
command -v curl >/dev/null || die "curl is needed for the pre-flight checks"
if ! command -v wrk >/dev/null; then
    # Debian's package; the machines this runs on are Debian-based.
    command -v apt-get >/dev/null || die "install wrk (https://github.com/wg/wrk)"
    say "installing wrk"
    apt-get install -y -qq wrk >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi

say "building the CLI"
(cd "$repo" && cargo build --locked --quiet)

# A port that was free a moment ago, below the ephemeral range so that wrk's and
# the server's outgoing connections cannot have taken it (as tests/e2e/project.js).
port=
for _ in $(seq 50); do
    candidate=$((20000 + RANDOM % 10000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        port=$candidate
        break
    fi
done
[ -n "$port" ] || die "no free loopback port found in 50 attempts"
origin=http://127.0.0.1:$port

say "generating the README example for $origin"
sed -e "s#https://mcp.example.com#$origin#g" -e "s/^port: [0-9]*\$/port: $port/" \
    "$repo/tests/fixtures/readme.yaml" >"$work/answers.yaml"
"$repo/target/debug/mcp-oauth-new" "$work/todo-mcp" --answers "$work/answers.yaml" --vcs none --quiet
resource_id=$(sed -n 's/^ *resource_id: *//p' "$work/answers.yaml")

say "building it with --release in $bench_target"
# RUSTFLAGS unset: the numbers are for the default release profile, as `cargo
# build --release` gives a user.
(cd "$work/todo-mcp" &&
    env -u RUSTFLAGS CARGO_TARGET_DIR="$bench_target" cargo build --release --locked --quiet --bin todo-mcp)
server_bin=$bench_target/release/todo-mcp

say "starting the Scalekit stand-in"
node "$repo/bench/standin.mjs" "$resource_id" >"$work/standin.json" 2>"$work/standin.log" &
pids+=($!)
for _ in $(seq 100); do
    [ -s "$work/standin.json" ] && break
    sleep 0.1
done
[ -s "$work/standin.json" ] || die "the stand-in did not start: $(cat "$work/standin.log")"
json_field() { node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8"))[process.argv[1]])' "$1" <"$work/standin.json"; }
standin_url=$(json_field url)
read_token=$(json_field readToken)
no_scope_token=$(json_field noScopeToken)

say "starting the server on $origin (stateless, RUST_LOG=$rust_log)"
# Only what the server needs, nothing from this shell's environment.
# MCP_STATELESS=true: no sessions and JSON answers, so every POST stands alone
# and wrk can repeat one request.
metrics_env=()
if [ -n "$metrics" ]; then
    metrics_env=(MCP_METRICS_ADDR="127.0.0.1:$((port + 1))")
fi
env -i PATH="$PATH" RUST_LOG="$rust_log" MCP_LISTEN_ADDR="127.0.0.1:$port" \
    SCALEKIT_ENVIRONMENT_URL="$standin_url" MCP_STATELESS=true "${metrics_env[@]}" \
    "$server_bin" >"$work/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 200); do
    curl -sf -o /dev/null "$origin/healthz" && break
    kill -0 "$server_pid" 2>/dev/null || die "the server exited: $(cat "$work/server.log")"
    sleep 0.1
done
curl -sf -o /dev/null "$origin/healthz" || die "the server did not answer /healthz: $(cat "$work/server.log")"

# The request of scenarios 3 and 4: a tools/call with no initialize before it,
# which rmcp accepts on its stateless path.
printf '%s' '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_todos","arguments":{}}}' \
    >"$work/call.json"
mcp_headers=(
    -H 'Content-Type: application/json'
    -H 'Accept: application/json, text/event-stream'
    -H 'MCP-Protocol-Version: 2025-06-18'
)

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
mapfile -d '' headers < <(headers_for 2)
curl -s -X POST "${headers[@]}" --data-binary "@$work/call.json" "$origin/mcp" >"$work/preflight.body"
grep -q 'list_todos is not implemented yet' "$work/preflight.body" ||
    die "the authenticated tools/call did not return the tool's answer: $(cat "$work/preflight.body")"
if grep -q '"isError":true' "$work/preflight.body"; then
    die "the authenticated tools/call returned a tool error: $(cat "$work/preflight.body")"
fi

# per N D P: N / D with P decimals (microseconds to ms, KiB to MiB).
per() { awk -v n="$1" -v d="$2" -v p="$3" 'BEGIN { printf "%." p "f", n / d }'; }
proc_kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$server_pid/status"; }
idle_rss=$(proc_kib VmRSS)

# A field of wrk.lua's "BENCH key=value ..." line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
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
    hwm=$(proc_kib VmHWM)
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
