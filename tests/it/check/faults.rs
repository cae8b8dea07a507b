//! A fake server with one fault each: every fault is reported by the check
//! that names it, with a reason that says what was seen.

use super::*;

#[test]
fn missing_metadata_fails_both_locations() {
    let fake = Fake::start(Faults {
        no_metadata: true,
        ..Faults::default()
    });
    let (report, code) = cli_json(&[&fake.url()]);
    assert_eq!(code, Some(1));
    assert_eq!(report["ok"], false);
    assert_eq!(json_status(&report, "metadata-path-inserted"), "fail");
    assert_eq!(json_status(&report, "metadata-root"), "fail");
    assert_eq!(json_status(&report, "metadata-fields"), "skip");
    assert_eq!(
        json_status(&report, "authorization-server-metadata"),
        "skip"
    );
    let reason = report["checks"][1]["reason"].as_str().unwrap();
    assert!(reason.contains("404 Not Found"), "{reason}");
}

#[test]
fn a_resource_of_another_origin_fails() {
    let fake = Fake::start(Faults {
        foreign_resource: true,
        ..Faults::default()
    });
    let assert = cmd().args(["check", &fake.url()]).assert().code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let row = stdout
        .lines()
        .find(|l| l.contains("metadata-resource"))
        .unwrap();
    assert!(row.contains("FAIL"), "{row}");
    assert!(row.contains("https://elsewhere.example/mcp"), "{row}");
    assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("check failed"));
}

#[test]
fn a_401_without_a_challenge_fails() {
    let report = probe(Faults {
        no_challenge: true,
        ..Faults::default()
    });
    assert_eq!(status(&report, CheckId::Unauthenticated401), Status::Pass);
    assert_eq!(
        status(&report, CheckId::ChallengeResourceMetadata),
        Status::Fail
    );
    assert!(
        report
            .get(CheckId::ChallengeResourceMetadata)
            .unwrap()
            .reason
            .contains("no WWW-Authenticate"),
        "{report:#?}"
    );
    assert_eq!(status(&report, CheckId::ChallengeScope), Status::Skip);
}

#[test]
fn an_accepted_wrong_audience_token_fails() {
    let fake = Fake::start(Faults {
        accept_wrong_audience: true,
        ..Faults::default()
    });
    let (report, code) = cli_json(&[
        &fake.url(),
        "--token",
        GOOD,
        "--wrong-audience-token",
        WRONG_AUDIENCE,
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(json_status(&report, "wrong-audience-refused"), "fail");
    assert_eq!(json_status(&report, "authenticated-initialize"), "pass");
}

#[test]
fn each_fault_is_named_by_its_check() {
    let cases: [(Faults, CheckId, Status); 17] = [
        (
            Faults {
                scope_401: true,
                ..Faults::default()
            },
            CheckId::InsufficientScope,
            Status::Fail,
        ),
        (
            Faults {
                scope_403_without_scope: true,
                ..Faults::default()
            },
            CheckId::InsufficientScope,
            Status::Fail,
        ),
        (
            Faults {
                legacy_only: true,
                ..Faults::default()
            },
            CheckId::ProtocolVersions,
            Status::Warn,
        ),
        (
            Faults {
                modern_only: true,
                ..Faults::default()
            },
            CheckId::ProtocolVersions,
            Status::Warn,
        ),
        (
            Faults {
                slash_redirect: true,
                ..Faults::default()
            },
            CheckId::Unauthenticated401,
            Status::Warn,
        ),
        (
            Faults {
                foreign_redirect: true,
                ..Faults::default()
            },
            CheckId::Unauthenticated401,
            Status::Fail,
        ),
        (
            Faults {
                no_scope: true,
                ..Faults::default()
            },
            CheckId::ChallengeScope,
            Status::Warn,
        ),
        (
            Faults {
                no_cors: true,
                ..Faults::default()
            },
            CheckId::MetadataCors,
            Status::Warn,
        ),
        (
            Faults {
                no_pkce: true,
                ..Faults::default()
            },
            CheckId::PkceS256,
            Status::Fail,
        ),
        (
            Faults {
                no_registration: true,
                ..Faults::default()
            },
            CheckId::PublicClientRegistration,
            Status::Warn,
        ),
        (
            Faults {
                redirect_root_metadata: true,
                ..Faults::default()
            },
            CheckId::MetadataRoot,
            Status::Warn,
        ),
        (
            Faults {
                unprotected: true,
                ..Faults::default()
            },
            CheckId::Unauthenticated401,
            Status::Fail,
        ),
        (
            Faults {
                json_answers: true,
                ..Faults::default()
            },
            CheckId::AuthenticatedToolsList,
            Status::Pass,
        ),
        (
            Faults {
                foreign_resource: true,
                ..Faults::default()
            },
            CheckId::MetadataResource,
            Status::Fail,
        ),
        (
            Faults {
                error_without_credentials: true,
                ..Faults::default()
            },
            CheckId::NoErrorWithoutCredentials,
            Status::Warn,
        ),
        (
            Faults {
                preflight_refused: true,
                ..Faults::default()
            },
            CheckId::McpCors,
            Status::Warn,
        ),
        (
            Faults {
                no_cors_exposure: true,
                ..Faults::default()
            },
            CheckId::McpCors,
            Status::Warn,
        ),
    ];
    for (faults, id, expected) in cases {
        let report = probe(faults);
        assert_eq!(status(&report, id), expected, "{id}: {report:#?}");
    }
}

#[test]
fn mcp_cors_is_skipped_without_an_origin_and_says_why_it_warns() {
    let fake = Fake::start(Faults::default());
    let mut options = options(&fake.url());
    options.origin = None;
    let report = check::run(&options);
    assert_eq!(status(&report, CheckId::McpCors), Status::Skip);

    let refused = probe(Faults {
        preflight_refused: true,
        ..Faults::default()
    });
    let reason = &refused.get(CheckId::McpCors).unwrap().reason;
    assert!(
        reason.contains("the preflight from https://app.example got 405"),
        "{reason}"
    );
    let hidden = probe(Faults {
        no_cors_exposure: true,
        ..Faults::default()
    });
    let reason = &hidden.get(CheckId::McpCors).unwrap().reason;
    assert!(
        reason.contains("does not let a browser read WWW-Authenticate"),
        "{reason}"
    );
}

#[test]
fn an_error_code_without_credentials_is_named_with_both_requests() {
    let report = probe(Faults {
        error_without_credentials: true,
        ..Faults::default()
    });
    let check = report.get(CheckId::NoErrorWithoutCredentials).unwrap();
    assert_eq!(check.status, Status::Warn);
    assert!(
        check
            .reason
            .contains(r#"the 401 without credentials has error="invalid_token""#),
        "{}",
        check.reason
    );
    assert!(
        check
            .reason
            .contains(r#"the 401 with Authorization: Basic has error="invalid_token""#),
        "{}",
        check.reason
    );
    assert!(check.reason.contains("RFC 6750"), "{}", check.reason);
    // The conforming server passes it.
    let conforming = probe(Faults::default());
    assert_eq!(
        status(&conforming, CheckId::NoErrorWithoutCredentials),
        Status::Pass
    );
}

#[test]
fn a_rejected_token_fails_the_authenticated_checks_with_the_reason() {
    let fake = Fake::start(Faults::default());
    let mut options = options(&fake.url());
    options.token = Some(Secret::new("expired-token-91c2"));
    let report = check::run(&options);
    let init = report.get(CheckId::AuthenticatedInitialize).unwrap();
    assert_eq!(init.status, Status::Fail);
    assert!(init.reason.contains("401 Unauthorized"), "{}", init.reason);
    assert!(init.reason.contains("[redacted]"), "{}", init.reason);
    assert_eq!(
        status(&report, CheckId::AuthenticatedToolsList),
        Status::Skip
    );
}

#[test]
fn a_trailing_slash_redirect_is_explained_once_and_the_checks_go_on_at_its_target() {
    let fake = Fake::start(Faults {
        slash_redirect: true,
        ..Faults::default()
    });
    let report = check::run(&options(&fake.url()));
    let url = fake.url();
    assert_eq!(
        reason(&report, CheckId::Unauthenticated401),
        format!(
            "{url} answers 308 Permanent Redirect to /mcp/, the same URL with a trailing slash: \
             MCP clients POST to the URL they are given and many do not follow redirects, so \
             give them {url}/ (the checks below use it); an initialize without a token got 401 \
             Unauthorized"
        )
    );
    // Every later row is judged at the target, none fails for the redirect.
    let later = CheckId::ALL
        .iter()
        .skip_while(|id| **id != CheckId::ChallengeResourceMetadata)
        .take_while(|id| **id != CheckId::AnswersResource);
    for id in later {
        assert_eq!(status(&report, *id), Status::Pass, "{id}: {report:#?}");
    }
    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen.closed, seen.opened);
}

#[test]
fn a_redirect_elsewhere_is_reported_with_its_location_and_not_followed() {
    let report = probe(Faults {
        foreign_redirect: true,
        ..Faults::default()
    });
    assert_eq!(
        reason(&report, CheckId::Unauthenticated401),
        "an initialize without a token got 307 Temporary Redirect to https://elsewhere.example/mcp, \
         not followed: clients send tokens only to the URL they are given, so give them the final URL"
    );
    let text = reason(&report, CheckId::AuthenticatedInitialize);
    assert_eq!(
        text,
        "initialize got 307 Temporary Redirect to https://elsewhere.example/mcp"
    );
}
