//! The `answers-*` rows: a resource server whose metadata is set per test,
//! in front of the `dev` stand-in (configured alike, it passes every row as
//! Scalekit would) or of a fake authorization server with one mistake.

use std::collections::BTreeMap;

use mcp_oauth_new::check::Expected;
use mcp_oauth_new::dev::standin::{self, Audience, Config, Standin};
use mcp_oauth_new::dev::state::{Grant, Store};
use tempfile::TempDir;

use crate::loopback::{Answer, Loopback};

use super::*;

const RESOURCE_ID: &str = "res_1234567890";
const SCOPES: [&str; 2] = ["todo:read", "todo:write"];

/// A server answering fixed JSON documents by path, and 401 elsewhere.
struct Documents {
    server: Loopback,
    documents: Arc<Mutex<HashMap<String, Value>>>,
}

impl Documents {
    fn start() -> Documents {
        let documents: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
        let served = documents.clone();
        let server = Loopback::start(move |_, path| match served.lock().unwrap().get(path) {
            Some(document) => Answer::json(200, document.to_string()),
            None => {
                let mut refusal = Answer::json(401, "{}");
                refusal.headers.push((
                    "WWW-Authenticate",
                    "Bearer resource_metadata=\"/.well-known/oauth-protected-resource/mcp\"".into(),
                ));
                refusal
            }
        });
        Documents { server, documents }
    }

    fn base(&self) -> &str {
        &self.server.base
    }

    fn serve(&self, path: &str, document: Value) {
        self.documents.lock().unwrap().insert(path.into(), document);
    }
}

/// The resource server, the stand-in and what the owner answered.
struct Setup {
    resource: Documents,
    standin: Standin,
    expected: Expected,
    _state: TempDir,
}

impl Setup {
    /// A resource server in front of a stand-in configured by `config`.
    fn new(config: impl FnOnce(&mut Config)) -> Setup {
        let resource = Documents::start();
        let endpoint = format!("{}/mcp", resource.base());
        let mut standin_config = Config {
            resource_id: RESOURCE_ID.into(),
            resource: endpoint.clone(),
            scopes: SCOPES.map(String::from).to_vec(),
            dcr: true,
            cimd: true,
            approve: true,
            token_ttl: 600,
        };
        config(&mut standin_config);
        let state = TempDir::new().unwrap();
        let store = Store::open(state.path(), false).unwrap();
        let standin = Standin::start(0, standin_config, store, Arc::new(|_: &str| {})).unwrap();
        let expected = Expected {
            resource: endpoint.clone(),
            environment_url: standin.url().to_owned(),
            resource_id: RESOURCE_ID.into(),
            scopes: SCOPES.map(String::from).to_vec(),
            audience: vec![RESOURCE_ID.into(), endpoint.clone()],
        };
        let setup = Setup {
            resource,
            standin,
            expected,
            _state: state,
        };
        setup.metadata(|_| {});
        setup
    }

    /// Serves the resource's metadata, as the generated server writes it,
    /// with `change` applied.
    fn metadata(&self, change: impl FnOnce(&mut Value)) {
        let mut document = json!({
            "resource": self.expected.resource,
            "authorization_servers": [self.standin.shared().issuer()],
            "bearer_methods_supported": ["header"],
            "scopes_supported": SCOPES,
        });
        change(&mut document);
        for path in [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ] {
            self.resource.serve(path, document.clone());
        }
    }

    /// A token from the stand-in's key, for `issuer` and `audience`.
    fn token(&self, issuer: &str, audience: &[&str]) -> String {
        let grant = Grant {
            client_id: "dev-token".into(),
            sub: "dev-user".into(),
            scopes: SCOPES.map(String::from).to_vec(),
        };
        let audience = Audience {
            issuer,
            resource_id: audience[0],
            resource: audience[1],
        };
        standin::access_token(self.standin.shared().key(), &audience, &grant, 600).unwrap()
    }

    fn good_token(&self) -> String {
        let issuer = self.standin.shared().issuer();
        self.token(&issuer, &[RESOURCE_ID, &self.expected.resource])
    }

    /// The `answers-*` rows of a probe with these answers and token.
    fn rows(
        &self,
        expected: &Expected,
        token: Option<Secret>,
    ) -> BTreeMap<String, (Status, String)> {
        let mut options = options(&format!("{}/mcp", self.resource.base()));
        options.token = token;
        options.wrong_audience_token = None;
        options.limited_token = None;
        options.answers = Some(expected.clone());
        check::run(&options)
            .checks
            .into_iter()
            .filter(|check| check.id.as_str().starts_with("answers-"))
            .map(|check| (check.id.as_str().to_owned(), (check.status, check.reason)))
            .collect()
    }
}

fn row<'a>(rows: &'a BTreeMap<String, (Status, String)>, id: &str) -> (Status, &'a str) {
    let (status, reason) = &rows[id];
    (*status, reason)
}

#[test]
fn against_dev_configured_alike_every_answers_row_passes() {
    let setup = Setup::new(|_| {});
    let rows = setup.rows(&setup.expected, Some(Secret::new(setup.good_token())));
    assert_eq!(rows.len(), 8, "{rows:#?}");
    for (id, (status, reason)) in &rows {
        assert_eq!(*status, Status::Pass, "{id}: {reason}");
    }
    let without_token = setup.rows(&setup.expected, None);
    assert_eq!(row(&without_token, "answers-audience").0, Status::Skip);
}

#[test]
fn dcr_or_cimd_off_warns_naming_the_dashboard_setting() {
    let no_dcr = Setup::new(|config| config.dcr = false);
    let rows = no_dcr.rows(&no_dcr.expected, None);
    let (status, reason) = row(&rows, "answers-public-clients");
    assert_eq!(status, Status::Warn, "{reason}");
    assert!(
        reason.contains("Dynamic Client Registration (DCR) is off"),
        "{reason}"
    );
    assert!(!reason.contains("(CIMD) are off"), "{reason}");
    assert!(
        reason.contains("Enable Dynamic Client Registration"),
        "{reason}"
    );

    let no_cimd = Setup::new(|config| config.cimd = false);
    let rows = no_cimd.rows(&no_cimd.expected, None);
    let (status, reason) = row(&rows, "answers-public-clients");
    assert_eq!(status, Status::Warn, "{reason}");
    assert!(
        reason.contains("Client ID Metadata Documents (CIMD) are off"),
        "{reason}"
    );
    assert!(!reason.contains("(DCR) is off"), "{reason}");
}

#[test]
fn a_resource_with_a_trailing_slash_fails_and_says_so() {
    let setup = Setup::new(|_| {});
    let slashed = format!("{}/", setup.expected.resource);
    setup.metadata(|document| document["resource"] = json!(slashed));
    let rows = setup.rows(&setup.expected, None);
    let (status, reason) = row(&rows, "answers-resource");
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(reason.contains("differ by a trailing slash"), "{reason}");
    assert!(reason.contains("Register the MCP server"), "{reason}");
}

#[test]
fn an_unknown_resource_id_fails_the_issuer_rows() {
    let setup = Setup::new(|_| {});
    let mut expected = setup.expected.clone();
    expected.resource_id = "res_0000000000".into();
    let rows = setup.rows(&expected, None);
    let (status, reason) = row(&rows, "answers-authorization-server");
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(reason.contains("scalekit.resource_id"), "{reason}");
    let (status, reason) = row(&rows, "answers-resource-known");
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(reason.contains("404"), "{reason}");
    assert!(
        reason.contains("knows no MCP server res_0000000000"),
        "{reason}"
    );
    for id in ["answers-scopes-defined", "answers-public-clients"] {
        assert_eq!(row(&rows, id).0, Status::Skip, "{id}");
    }
}

#[test]
fn a_scope_the_authorization_server_lacks_fails_naming_it() {
    let setup = Setup::new(|config| config.scopes = vec!["todo:read".into()]);
    let rows = setup.rows(&setup.expected, None);
    let (status, reason) = row(&rows, "answers-scopes-defined");
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(
        reason.contains("todo:write") && !reason.contains("todo:read"),
        "{reason}"
    );
    assert!(reason.contains("Define the scopes"), "{reason}");
    // The server itself still advertises both, as answered.
    assert_eq!(row(&rows, "answers-scopes-advertised").0, Status::Pass);
}

#[test]
fn a_server_advertising_other_scopes_warns() {
    let setup = Setup::new(|_| {});
    setup.metadata(|document| document["scopes_supported"] = json!(["todo:read"]));
    let rows = setup.rows(&setup.expected, None);
    let (status, reason) = row(&rows, "answers-scopes-advertised");
    assert_eq!(status, Status::Warn, "{reason}");
    assert!(reason.contains("[todo:read]"), "{reason}");
}

#[test]
fn a_key_set_without_rs256_keys_fails() {
    let setup = Setup::new(|_| {});
    let environment = Documents::start();
    environment.serve(
        "/keys",
        json!({"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "x": "AA", "y": "AA"}]}),
    );
    let mut expected = setup.expected.clone();
    expected.environment_url = environment.base().to_owned();
    let rows = setup.rows(&expected, None);
    let (status, reason) = row(&rows, "answers-keys");
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(reason.contains("none of the 1 key(s)"), "{reason}");
    assert_eq!(
        row(&setup.rows(&setup.expected, None), "answers-keys").0,
        Status::Pass
    );
}

#[test]
fn a_token_with_another_audience_or_issuer_fails_without_being_printed() {
    let setup = Setup::new(|_| {});
    let issuer = setup.standin.shared().issuer();
    let other_audience = setup.token(&issuer, &["res_other", "https://other.example/mcp"]);
    let rows = setup.rows(&setup.expected, Some(Secret::new(other_audience.clone())));
    let (status, reason) = row(&rows, "answers-audience");
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(
        reason.contains("aud [res_other, https://other.example/mcp]"),
        "{reason}"
    );
    assert!(!reason.contains(" iss "), "{reason}");

    let other_issuer = setup.token("https://elsewhere.example", &[RESOURCE_ID, "x"]);
    let rows = setup.rows(&setup.expected, Some(Secret::new(other_issuer)));
    let (status, reason) = row(&rows, "answers-audience");
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(
        reason.contains("its iss https://elsewhere.example"),
        "{reason}"
    );

    let rows = setup.rows(&setup.expected, Some(Secret::new("opaque-token")));
    assert!(row(&rows, "answers-audience").1.contains("not a JWT"));
}

#[test]
fn the_cli_takes_answers_from_a_file_or_from_the_project_it_runs_in() {
    let setup = Setup::new(|_| {});
    let endpoint = setup.expected.resource.clone();
    let answers = std::fs::read_to_string(crate::common::fixture("readme"))
        .unwrap()
        .replace("https://mcp.example.com/mcp", &endpoint)
        .replace("https://mcp.example.com", setup.resource.base())
        .replace("https://acme.scalekit.com", setup.standin.url());
    let dir = TempDir::new().unwrap();
    let project = dir.path().join("todo-mcp");
    cmd()
        .arg(&project)
        .args(["--answers", "-", "--vcs", "none", "-q"])
        .write_stdin(answers)
        .assert()
        .success();

    let (report, code) = cli_json(&[
        &endpoint,
        "--answers",
        project.join("mcp-oauth.yaml").to_str().unwrap(),
    ]);
    assert_eq!(
        json_status(&report, "answers-resource"),
        "pass",
        "{report:#}"
    );
    assert_eq!(json_status(&report, "answers-keys"), "pass", "{report:#}");
    assert_eq!(
        json_status(&report, "answers-audience"),
        "skip",
        "{report:#}"
    );
    assert_eq!(report["checks"].as_array().unwrap().len(), IDS.len() + 8);
    assert!(code.is_some());

    let inside = cmd()
        .current_dir(&project)
        .args(["check", "--json"])
        .env("MCP_CHECK_TOKEN", setup.good_token())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&inside.stdout).unwrap();
    assert_eq!(report["url"], endpoint);
    assert_eq!(
        json_status(&report, "answers-audience"),
        "pass",
        "{report:#}"
    );

    let outside = TempDir::new().unwrap();
    cmd()
        .current_dir(outside.path())
        .args(["check"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("check needs <URL>"));
}
