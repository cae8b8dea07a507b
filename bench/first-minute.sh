#!/usr/bin/env bash
# The first minute, as a new user lives it: from an empty target directory to
# a tool answered through a real MCP client's sign-in. Four steps, each timed
# (wall and CPU): `cargo install` of this CLI, generating the README example,
# `mcp-oauth-new dev --approve` until its banner (the project's first build),
# and the official Python SDK's own OAuth sign-in, tools/list, a tool call and
# a step-up (tests/python/client.py).
#
#   bench/first-minute.sh          # cold: empty target directories
#   bench/first-minute.sh warm     # again, reusing this run's targets
#
# Cold empties both target directories first; warm reuses them, as a second
# project on the same machine would. Crates must be downloaded already (run
# `cargo fetch` in this repository and in a generated project once); the
# Python SDK comes from the virtualenv tests/python_client.rs makes.
set -euo pipefail
source "$(dirname "$0")/lock.sh"
take_lock "$@"
source "$(dirname "$0")/lib.sh"

mode=${1:-cold}
case "$mode" in cold | warm) ;; *) die "usage: $0 [cold|warm]" ;; esac
python=$repo/target/tmp/python-client/bin/python
[ -x "$python" ] || die "no $python: run 'cargo test --test python_client' once"

# Kept between a cold and a warm run; a cold run empties them.
targets=$repo/target/first-minute
[ "$mode" = cold ] && rm -rf "$targets"
mkdir -p "$targets"

say "first minute, $mode (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
total_start=$(date +%s.%N)
timed install cargo install --locked --quiet --path "$repo" --root "$targets/root" \
    --target-dir "$targets/cli"
cli=$targets/root/bin/mcp-oauth-new

cd "$work"
timed generate "$cli" todo-mcp --answers "$repo/tests/fixtures/readme.yaml" --vcs none --quiet

# dev on free loopback ports; its banner means the server answered /readyz.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
auth_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dev_start=$(date +%s.%N)
(cd todo-mcp && CARGO_TARGET_DIR=$targets/project exec "$cli" dev --approve --port "$port" \
    --auth-port "$auth_port" >"$work/dev.out" 2>"$work/dev.err") &
pids+=($!)
until grep -q '^Ctrl-C stops' "$work/dev.out" 2>/dev/null; do
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/dev.err" >&2; die "dev exited"; }
    sleep 0.2
done
awk -v s="$dev_start" -v e="$(date +%s.%N)" \
    'BEGIN { printf "%-22s %7.1f s wall (build and start, until the banner)\n", "dev", e - s }'

timed sign-in "$python" "$repo/tests/python/client.py" step-up "http://127.0.0.1:$port/mcp"
grep -q '^ok: list_todos answered' "$work/sign-in.out" ||
    die "the client's output shows no tool call: $(cat "$work/sign-in.out")"
awk -v s="$total_start" -v e="$(date +%s.%N)" \
    'BEGIN { printf "%-22s %7.1f s wall, empty target to a tool answered\n", "total", e - s }'
