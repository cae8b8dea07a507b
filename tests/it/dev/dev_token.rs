//! `mcp-oauth-new dev token` through the binary, on a generated project (no
//! build needed): one JWT on standard output, which the stand-in's keys for
//! that project verify.

use std::path::Path;

use mcp_oauth_new::dev::state::Run;
use serde_json::{Value, json};

use super::{Config, Env, store_with_shared_key, verify};
use crate::common::{cmd, generate};

const README_RES: &str = "res_1234567890";

/// The stand-in `dev` would run for the README example, on its directory
/// (the `Env`'s own temporary directory stays unused).
fn standin_for(project: &Path) -> Env {
    let store = store_with_shared_key(project);
    Env::on(
        tempfile::tempdir().unwrap(),
        store,
        Config {
            resource_id: README_RES.into(),
            resource: "http://127.0.0.1:3000/mcp".into(),
            scopes: vec!["todo:read".into(), "todo:write".into()],
            dcr: true,
            cimd: true,
            approve: true,
            token_ttl: 3600,
        },
    )
}

/// Runs `dev token PATH args`; asserts it printed one line and nothing else.
fn dev_token(project: &Path, args: &[&str]) -> String {
    let output = cmd()
        .args(["dev", "token"])
        .arg(project)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("one line: {stdout:?}"));
    assert!(!token.contains(['\n', ' ']), "{stdout:?}");
    assert_eq!(token.split('.').count(), 3, "{stdout:?}");
    token.to_owned()
}

fn claims_at(env: &Env, token: &str) -> Value {
    verify(token, &env.keys()).1
}

#[test]
fn dev_token_prints_one_jwt_the_standin_on_the_project_verifies() {
    let (_dir, project) = generate("readme");
    let env = standin_for(&project);
    let port = env.standin.port().to_string();
    let token = dev_token(&project, &["--auth-port", &port]);
    let claims = claims_at(&env, &token);
    assert_eq!(
        claims["iss"],
        format!("http://127.0.0.1:{port}/resources/{README_RES}")
    );
    assert_eq!(
        claims["aud"],
        json!([README_RES, "http://127.0.0.1:3000/mcp"])
    );
    assert_eq!(claims["scope"], "todo:read todo:write");
    assert_eq!(claims["sub"], "dev-user");
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64(), Some(iat + 3600));
}

#[test]
fn dev_token_takes_its_scopes_subject_client_and_lifetime_from_flags() {
    let (_dir, project) = generate("readme");
    let env = standin_for(&project);
    let port = env.standin.port().to_string();
    let token = dev_token(
        &project,
        &[
            "--auth-port",
            &port,
            "--scopes",
            "todo:read",
            "--sub",
            "alice",
            "--client-id",
            "curl",
            "--expires-in",
            "60",
        ],
    );
    let claims = claims_at(&env, &token);
    assert_eq!(claims["scope"], "todo:read");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["client_id"], "curl");
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64(), Some(iat + 60));
}

#[test]
fn dev_token_refuses_an_undeclared_scope_by_name() {
    let (_dir, project) = generate("readme");
    let output = cmd()
        .args(["dev", "token"])
        .arg(&project)
        .args(["--scopes", "todo:read,todo:admin"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("todo:admin"), "{stderr}");
}

#[test]
fn dev_token_without_flags_mints_for_the_standin_last_started() {
    let (_dir, project) = generate("readme");
    let env = standin_for(&project);
    let resource = "http://127.0.0.1:4100/mcp";
    env.standin
        .shared()
        .record_run(Run {
            auth_port: env.standin.port(),
            port: 4100,
            resource: resource.into(),
        })
        .unwrap();
    let token = dev_token(&project, &[]);
    let claims = claims_at(&env, &token);
    assert_eq!(
        claims["iss"],
        format!("{}/resources/{README_RES}", env.standin.url())
    );
    assert_eq!(claims["aud"], json!([README_RES, resource]));
}
