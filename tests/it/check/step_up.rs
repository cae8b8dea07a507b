//! What tokens get: the step-up to a missing scope, the protocol revisions
//! and the sessions the probe opens on the way.

use super::*;

#[test]
fn every_session_the_probe_opens_is_closed() {
    let fake = Fake::start(Faults::default());
    let report = check::run(&options(&fake.url()));
    for id in [
        CheckId::AuthenticatedToolsList,
        CheckId::ProtocolVersions,
        CheckId::InsufficientScope,
    ] {
        assert_eq!(status(&report, id), Status::Pass, "{id}: {report:#?}");
    }
    let seen = fake.seen.lock().unwrap();
    // One for the authenticated checks, one per `initialize` revision and one
    // for the limited token.
    assert_eq!(seen.opened.len(), 5, "{:?}", seen.opened);
    assert_eq!(seen.closed, seen.opened);
}

#[test]
fn a_403_naming_the_scopes_passes_and_says_what_it_named() {
    let report = probe(Faults::default());
    assert_eq!(
        reason(&report, CheckId::InsufficientScope),
        r#"tools/call create_todo with the limited token got 403 Forbidden with error="insufficient_scope", scope="todo:read todo:write" and resource_metadata"#
    );
}

#[test]
fn step_up_defects_fail_with_a_reason_that_names_them() {
    let cases = [
        (
            Faults {
                scope_401: true,
                ..Faults::default()
            },
            r#"got 401 Unauthorized (error="invalid_token"): a valid token lacking a scope must get 403"#,
        ),
        (
            Faults {
                scope_403_without_scope: true,
                ..Faults::default()
            },
            "got 403 Forbidden, but no scope: clients cannot tell which scopes to ask for",
        ),
        (
            Faults {
                scopes_not_enforced: true,
                ..Faults::default()
            },
            "tools/call create_todo with the limited token got a result: a call lacking a scope must get 403 Forbidden",
        ),
    ];
    for (faults, expected) in cases {
        let report = probe(faults);
        assert_eq!(status(&report, CheckId::InsufficientScope), Status::Fail);
        let reason = reason(&report, CheckId::InsufficientScope);
        assert!(reason.contains(expected), "{reason}");
        assert!(!reason.contains(LIMITED), "{reason}");
    }
}

#[test]
fn insufficient_scope_is_skipped_without_a_limited_token_or_a_tool() {
    let fake = Fake::start(Faults::default());
    let mut without_tool = options(&fake.url());
    without_tool.tool = None;
    let report = check::run(&without_tool);
    assert_eq!(status(&report, CheckId::InsufficientScope), Status::Skip);
    assert!(reason(&report, CheckId::InsufficientScope).contains("no --tool given"));

    let (report, code) = cli_json(&[&fake.url(), "--token", GOOD]);
    assert_eq!(code, Some(0));
    assert_eq!(json_status(&report, "insufficient-scope"), "skip");
}

#[test]
fn the_cli_sends_the_tool_and_its_arguments_with_the_limited_token() {
    let fake = Fake::start(Faults::default());
    let limited = [("MCP_CHECK_LIMITED_TOKEN", LIMITED)];
    let (report, code) = cli_json_env(
        &[
            &fake.url(),
            "--tool",
            "create_todo",
            "--tool-arguments",
            r#"{"title":"x"}"#,
        ],
        &limited,
    );
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(json_status(&report, "insufficient-scope"), "pass");
    // A tool the limited token may call is not a refusal: the row says so.
    let (report, code) = cli_json_env(&[&fake.url(), "--tool", "list_todos"], &limited);
    assert_eq!(code, Some(1));
    assert_eq!(json_status(&report, "insufficient-scope"), "fail");
}

#[test]
fn protocol_versions_lists_what_the_server_speaks_and_what_it_does_not() {
    let report = probe(Faults::default());
    assert_eq!(status(&report, CheckId::ProtocolVersions), Status::Pass);
    assert_eq!(
        reason(&report, CheckId::ProtocolVersions),
        "speaks 2026-07-28 (server/discover), 2025-11-25, 2025-06-18; \
         not 2025-03-26 (initialize answered 2025-11-25)"
    );
    // The server's version, never the one offered.
    assert!(
        reason(&report, CheckId::AuthenticatedInitialize).contains("protocol 2025-11-25"),
        "{report:#?}"
    );
}

#[test]
fn a_legacy_only_or_modern_only_server_warns_and_says_who_cannot_connect() {
    let legacy = probe(Faults {
        legacy_only: true,
        ..Faults::default()
    });
    assert_eq!(status(&legacy, CheckId::ProtocolVersions), Status::Warn);
    let text = reason(&legacy, CheckId::ProtocolVersions);
    assert!(
        text.starts_with("speaks 2025-11-25, 2025-06-18; not 2026-07-28 (server/discover got JSON-RPC error -32601: Method not found)"),
        "{text}"
    );
    assert!(text.contains("must fall back to initialize"), "{text}");

    let modern = probe(Faults {
        modern_only: true,
        ..Faults::default()
    });
    assert_eq!(status(&modern, CheckId::ProtocolVersions), Status::Warn);
    let text = reason(&modern, CheckId::ProtocolVersions);
    assert!(
        text.starts_with(
            "speaks 2026-07-28 (server/discover); not 2025-11-25 (initialize got 400 Bad Request)"
        ),
        "{text}"
    );
    assert!(
        text.contains("begin with initialize and cannot connect"),
        "{text}"
    );
    assert_eq!(
        status(&modern, CheckId::AuthenticatedInitialize),
        Status::Fail
    );
}

#[test]
fn protocol_versions_fails_when_nothing_works_and_names_a_refused_token() {
    let fake = Fake::start(Faults::default());
    let mut options = options(&fake.url());
    options.token = Some(Secret::new("expired-token-91c2"));
    let report = check::run(&options);
    assert_eq!(status(&report, CheckId::ProtocolVersions), Status::Fail);
    let text = reason(&report, CheckId::ProtocolVersions);
    assert!(
        text.starts_with("speaks none of them; not 2026-07-28 ("),
        "{text}"
    );
    assert!(
        text.ends_with("every attempt got 401, so --token was refused"),
        "{text}"
    );
    assert!(!text.contains("expired-token-91c2"), "{text}");
}
