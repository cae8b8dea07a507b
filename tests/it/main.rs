//! The fast integration tests, in one binary as cargo and uv keep theirs: the
//! CLI, `check`, `dev`'s stand-in, the layout rules, the prompts and the
//! snapshots. The suites
//! that build generated projects (`tests/generated.rs`, `tests/update/`,
//! `tests/e2e.rs`) stay apart.

#[path = "../common/mod.rs"]
mod common;

mod check;
mod cli;
mod dev;
mod keyed_merge;
mod layout;
mod loopback;
mod project_ci;
mod prompt;
mod properties;
mod snapshots;
