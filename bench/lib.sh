# Shared by bench/run.sh and bench/compare.sh (sourced, not run): the work
# directory and the cleanup of every process started, the tools, the build of
# the README example, the Scalekit stand-in and the generated server's start.
# The sourcing script has `set -euo pipefail`.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are the sourcing script's

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The generated server logs every refused request and every tool call at info,
# as it would in production; BENCH_RUST_LOG=warn shows what that costs.
rust_log=${BENCH_RUST_LOG:-info,rmcp=warn}
# BENCH_METRICS=1 serves Prometheus metrics (MCP_METRICS_ADDR on another
# loopback port), as a production deployment would; unset, none are recorded.
metrics=${BENCH_METRICS:-}
# BENCH_GENERATOR=/path/to/mcp-oauth-new generates with another build of the
# CLI (an older release, to measure before and after a template change);
# unset, the checkout's own is built and used.
generator=${BENCH_GENERATOR:-$repo/target/debug/mcp-oauth-new}
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

# `timed NAME COMMAND...`: runs it with its output in $work/NAME.out and
# .err, and prints wall and CPU (user + sys) seconds; dies showing .err if
# it fails.
timed() {
    local name=$1
    shift
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -o "$work/$name.time" -f '%U %S' "$@" >"$work/$name.out" 2>"$work/$name.err" ||
        { cat "$work/$name.err" >&2; die "$name failed"; }
    end=$(date +%s.%N)
    awk -v n="$name" -v s="$start" -v e="$end" -v u="$(tail -n 1 "$work/$name.time")" \
        'BEGIN { split(u, t, " "); printf "%-22s %7.1f s wall %7.1f s CPU\n", n, e - s, t[1] + t[2] }'
}

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_tools() {
    command -v node >/dev/null || die "Node.js 20+ is needed for the Scalekit stand-in (bench/standin.mjs)"
    command -v curl >/dev/null || die "curl is needed for the pre-flight checks"
    if ! command -v wrk >/dev/null; then
        # Debian's package; the machines this runs on are Debian-based.
        command -v apt-get >/dev/null || die "install wrk (https://github.com/wg/wrk)"
        say "installing wrk"
        apt-get install -y -qq wrk >/dev/null 2>&1 ||
            { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    fi
}

build_cli() {
    [ -n "${BENCH_GENERATOR:-}" ] && return
    say "building the CLI"
    (cd "$repo" && cargo build --locked --quiet)
}

# Prints a port that was free a moment ago, below the ephemeral range so that
# wrk's and the servers' outgoing connections cannot have taken it (as
# tests/e2e/project.js).
free_port() {
    local candidate
    for _ in $(seq 50); do
        candidate=$((20000 + RANDOM % 10000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    die "no free loopback port found in 50 attempts"
}

# build_server PORT: generates the README example for http://127.0.0.1:PORT
# and builds it; sets server_bin and resource_id.
build_server() {
    local origin=http://127.0.0.1:$1
    say "generating the README example for $origin"
    sed -e "s#https://mcp.example.com#$origin#g" -e "s/^port: [0-9]*\$/port: $1/" \
        "$repo/tests/fixtures/readme.yaml" >"$work/answers.yaml"
    "$generator" "$work/todo-mcp" --answers "$work/answers.yaml" --vcs none --quiet
    resource_id=$(sed -n 's/^ *resource_id: *//p' "$work/answers.yaml")

    say "building it with --release in $bench_target"
    # RUSTFLAGS unset: the numbers are for the default release profile, as `cargo
    # build --release` gives a user.
    (cd "$work/todo-mcp" &&
        env -u RUSTFLAGS CARGO_TARGET_DIR="$bench_target" cargo build --release --locked --quiet --bin todo-mcp)
    server_bin=$bench_target/release/todo-mcp
}

# start_standin [TOKENS_FILE SUBJECT...]: sets standin_url, standin_pid and the
# tokens the stand-in minted for resource_id; the arguments go to standin.mjs.
# shellcheck disable=SC2120 # run.sh and compare.sh pass none
start_standin() {
    say "starting the Scalekit stand-in"
    node "$repo/bench/standin.mjs" "$resource_id" "$@" >"$work/standin.json" 2>"$work/standin.log" &
    standin_pid=$!
    pids+=("$standin_pid")
    for _ in $(seq 100); do
        [ -s "$work/standin.json" ] && break
        sleep 0.1
    done
    [ -s "$work/standin.json" ] || die "the stand-in did not start: $(cat "$work/standin.log")"
    standin_url=$(json_field url)
    read_token=$(json_field readToken)
    no_scope_token=$(json_field noScopeToken)
    forged_token=$(json_field forgedToken)
}
json_field() { node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8"))[process.argv[1]])' "$1" <"$work/standin.json"; }

# wait_for URL PID LOG: until URL answers 2xx; dies with LOG if PID exits first.
wait_for() {
    for _ in $(seq 200); do
        curl -sf -o /dev/null "$1" && return
        kill -0 "$2" 2>/dev/null || die "the server exited: $(cat "$3")"
        sleep 0.1
    done
    die "the server did not answer $1: $(cat "$3")"
}

# MCP_STATELESS=true: no sessions and JSON answers, so every POST stands alone
# and wrk can repeat one request. bench/soak.sh sets it to false for sessions.
server_stateless=true

# start_generated PORT LOG [VAR=VALUE...]: the built server on 127.0.0.1:PORT,
# stateless unless server_stateless=false, with only the environment it needs
# plus the given variables; sets started_pid once it answers /healthz.
start_generated() {
    local port=$1 log=$2
    shift 2
    local extra_env=("$@")
    if [ -n "$metrics" ]; then
        extra_env+=(MCP_METRICS_ADDR="127.0.0.1:$((port + 1))")
    fi
    env -i PATH="$PATH" RUST_LOG="$rust_log" MCP_LISTEN_ADDR="127.0.0.1:$port" \
        SCALEKIT_ENVIRONMENT_URL="$standin_url" MCP_STATELESS="$server_stateless" "${extra_env[@]}" \
        "$server_bin" >"$log" 2>&1 &
    started_pid=$!
    pids+=("$started_pid")
    wait_for "http://127.0.0.1:$port/healthz" "$started_pid" "$log"
}

# The request of the tools/call scenarios: no initialize before it, which
# stateless servers accept. Written to $work/call.json.
printf '%s' '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_todos","arguments":{}}}' \
    >"$work/call.json"
mcp_headers=(
    -H 'Content-Type: application/json'
    -H 'Accept: application/json, text/event-stream'
    -H 'MCP-Protocol-Version: 2025-06-18'
)

# check_tool_answer URL TOKEN: the authenticated tools/call ran the tool (its
# placeholder answer), rather than returning an error inside a 200.
check_tool_answer() {
    curl -s -X POST "${mcp_headers[@]}" -H "Authorization: Bearer $2" --data-binary "@$work/call.json" "$1" \
        >"$work/preflight.body"
    grep -q 'list_todos is not implemented yet' "$work/preflight.body" ||
        die "the authenticated tools/call did not return the tool's answer: $(cat "$work/preflight.body")"
    if grep -q '"isError":true' "$work/preflight.body"; then
        die "the authenticated tools/call returned a tool error: $(cat "$work/preflight.body")"
    fi
}

# cpu_ticks PID: the process's user + system CPU, in clock ticks, all threads
# (fields 14 and 15 of /proc/PID/stat, counted after the parenthesised command
# name).
cpu_ticks() {
    local stat fields
    stat=$(<"/proc/$1/stat")
    read -ra fields <<<"${stat##*") "}"
    echo $((fields[11] + fields[12]))
}
# The machine's busy CPU, in clock ticks: everything but idle and iowait in
# the first line of /proc/stat.
busy_ticks() {
    local user nice system irq softirq steal
    read -r _ user nice system _ _ irq softirq steal _ </proc/stat
    echo $((user + nice + system + irq + softirq + steal))
}

# per N D P: N / D with P decimals (microseconds to ms, KiB to MiB).
per() { awk -v n="$1" -v d="$2" -v p="$3" 'BEGIN { printf "%." p "f", n / d }'; }
# proc_kib PID FIELD: a /proc/PID/status size in KiB (VmRSS, VmHWM).
proc_kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
# A field of wrk.lua's "BENCH key=value ..." line, held in $line.
# shellcheck disable=SC2154 # the sourcing script sets line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
