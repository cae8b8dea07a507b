//! Every generated file of every answer fixture, snapshotted, so a change to a
//! template shows up as a reviewable diff.

use std::fs;

use crate::common;
use mcp_oauth_new::{Answers, render};

fn snapshot_fixture(fixture: &str) {
    let text = fs::read_to_string(common::fixture(fixture)).unwrap();
    let answers = Answers::from_yaml(&text, fixture).unwrap();
    let project = answers
        .validate(Some(fixture))
        .unwrap_or_else(|problems| panic!("{fixture}: {problems}"));
    let files = render(&project).unwrap();
    assert!(files.len() > 10, "{fixture}: only {} files", files.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    // Beside the other suites, where a reviewer looks for them.
    settings.set_snapshot_path("../snapshots");
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (path, contents) in &files {
            let name = format!("{fixture}__{}", path.display()).replace('/', "__");
            let text = String::from_utf8(contents.clone()).unwrap();
            insta::assert_snapshot!(name, text);
        }
    });
}

#[test]
fn minimal() {
    snapshot_fixture("minimal");
}

#[test]
fn readme_example() {
    snapshot_fixture("readme");
}

#[test]
fn hostile() {
    snapshot_fixture("hostile");
}

/// The recorded answers read back to the same project: free text survives
/// YAML intact, whatever it holds.
#[test]
fn recorded_answers_round_trip() {
    for fixture in ["minimal", "readme", "hostile"] {
        let text = fs::read_to_string(common::fixture(fixture)).unwrap();
        let project = Answers::from_yaml(&text, fixture)
            .unwrap()
            .validate(Some(fixture))
            .unwrap();
        let files = render(&project).unwrap();
        let recorded =
            String::from_utf8(files[std::path::Path::new("mcp-oauth.yaml")].clone()).unwrap();
        let reread = Answers::from_yaml(&recorded, "mcp-oauth.yaml")
            .unwrap()
            .validate(Some("another-dir"))
            .unwrap();
        assert_eq!(reread, project, "{fixture}");
    }
}
