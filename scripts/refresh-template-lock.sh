#!/usr/bin/env bash
# Refreshes templates/Cargo.lock: the dependency versions every generated
# project builds with (`--locked`). It generates the README's example, whose
# package is `todo-mcp` (the root package name the generator renames), lets
# cargo resolve it, and copies the lock file back. Arguments go to
# `cargo update` (e.g. `-p rmcp` to move one crate); none updates everything.
# Review the diff, then run the suite: the generated projects are built,
# tested and linted against the new versions.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --quiet -- "$work/todo-mcp" --answers tests/fixtures/readme.yaml --vcs none --quiet
(cd "$work/todo-mcp" && cargo update "$@")
cp "$work/todo-mcp/Cargo.lock" templates/Cargo.lock
echo "templates/Cargo.lock refreshed; review it with: git diff templates/Cargo.lock"
