#!/usr/bin/env bash
# Installing the CLI: what `cargo install --locked --path .` compiles, timed.
# A release build of each checkout given (default: this one) into an empty
# target directory, RUNS times each, the checkouts alternated so that a drift
# of the machine touches them alike; crates downloaded beforehand. Prints
# wall and CPU (user + sys) seconds, the units compiled and the longest
# ones (from `--timings`).
#
#   bench/install.sh                                # this checkout, 2 runs
#   bench/install.sh 3 /path/to/other/checkout      # 3 runs of each, alternated
#
# Another checkout to compare with: `git worktree add /tmp/old <commit>`.
set -euo pipefail
source "$(dirname "$0")/lock.sh"
take_lock "$@"
source "$(dirname "$0")/lib.sh"
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR CARGO_PROFILE_RELEASE_OPT_LEVEL

runs=${1:-2}
shift || true
checkouts=("$repo" "$@")
for checkout in "${checkouts[@]}"; do
    (cd "$checkout" && cargo fetch --locked --quiet) || die "cargo fetch failed in $checkout"
done
say "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

for run in $(seq "$runs"); do
    for index in "${!checkouts[@]}"; do
        checkout=${checkouts[$index]}
        target=$work/target-$index
        rm -rf "$target"
        (cd "$checkout" && timed "#$index run $run" \
            cargo build --release --locked --timings --target-dir "$target")
        echo "    $(git -C "$checkout" log -1 --format='%h %s' | cut -c1-60)"
        python3 - "$target/cargo-timings/cargo-timing.html" <<'PY'
import json, re, sys
page = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", page, re.S).group(1))
units.sort(key=lambda unit: -unit["duration"])
longest = ", ".join(f"{u['name']} {u['duration']:.1f} s" for u in units[:6])
print(f"    {len(units)} units; longest: {longest}")
PY
    done
done
