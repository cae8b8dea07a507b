//! Configuration from the environment over the baked-in answers.

use std::collections::HashMap;

use mcp_server::config::{Config, ConfigError};

fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Config::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn no_environment_means_the_baked_in_answers() {
    let config = from(&[]).unwrap();
    let defaults = Config::defaults();
    assert_eq!(config.resource, defaults.resource);
    assert_eq!(config.audience, defaults.audience);
    assert_eq!(
        config.jwks_url,
        format!("{}/keys", defaults.environment_url)
    );
    assert!(config.listen_addr.ip().is_loopback());
    assert!(!config.stateless);
    assert!(config.allowed_origins.is_empty());
}

#[test]
fn environment_variables_override_the_answers() {
    let config = from(&[
        ("MCP_LISTEN_ADDR", "0.0.0.0:8080"),
        ("MCP_SERVER_URL", "http://localhost:8080"),
        ("MCP_RESOURCE", "http://localhost:8080/mcp"),
        ("MCP_AUDIENCE", "res_1, http://localhost:8080/mcp"),
        (
            "MCP_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:6274",
        ),
        ("SCALEKIT_ENVIRONMENT_URL", "https://other.scalekit.dev/"),
        ("SCALEKIT_RESOURCE_ID", "res_1"),
        ("MCP_STATELESS", "true"),
        ("MCP_AUTH_FAILURES_PER_MINUTE", "5"),
        ("MCP_MAX_CONNECTIONS", "64"),
        ("MCP_MAX_SESSIONS_PER_PRINCIPAL", "7"),
        ("MCP_MAX_SESSIONS", "70"),
        ("MCP_HEADER_TIMEOUT_SECS", "3"),
        ("MCP_BODY_TIMEOUT_SECS", "4"),
        ("MCP_WRITE_TIMEOUT_SECS", "5"),
        ("MCP_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7"),
    ])
    .unwrap();
    assert_eq!(config.listen_addr.to_string(), "0.0.0.0:8080");
    assert_eq!(config.resource, "http://localhost:8080/mcp");
    assert_eq!(config.audience, ["res_1", "http://localhost:8080/mcp"]);
    assert_eq!(
        config.allowed_origins,
        ["https://app.example.com", "http://localhost:6274"]
    );
    assert_eq!(config.environment_url, "https://other.scalekit.dev");
    assert_eq!(config.jwks_url, "https://other.scalekit.dev/keys");
    assert_eq!(
        config.authorization_server(),
        "https://other.scalekit.dev/resources/res_1"
    );
    assert_eq!(
        config.metadata_url(),
        "http://localhost:8080/.well-known/oauth-protected-resource/mcp"
    );
    assert!(config.stateless);
    assert_eq!(config.auth_failures_per_minute, 5);
    assert_eq!(config.max_connections, 64);
    assert_eq!(config.max_sessions_per_principal, 7);
    assert_eq!(config.max_sessions, 70);
    assert_eq!(config.header_timeout.as_secs(), 3);
    assert_eq!(config.body_timeout.as_secs(), 4);
    assert_eq!(config.write_timeout.as_secs(), 5);
    let proxies: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.7/32"]);
}

#[test]
fn a_bad_value_names_its_variable() {
    let cases = [
        ("MCP_LISTEN_ADDR", "localhost"),
        ("MCP_SERVER_URL", "mcp.example.com"),
        ("MCP_RESOURCE", "http://mcp.example.com/mcp"),
        ("MCP_ALLOWED_ORIGINS", "https://app.example.com/path"),
        ("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.com/#x"),
        ("SCALEKIT_JWKS_URL", "ftp://acme.scalekit.com/keys"),
        ("MCP_STATELESS", "maybe"),
        ("MCP_AUTH_FAILURES_PER_MINUTE", "0"),
        ("MCP_MAX_CONNECTIONS", "many"),
        ("MCP_MAX_SESSIONS_PER_PRINCIPAL", "-1"),
        ("MCP_MAX_SESSIONS", "0"),
        ("MCP_HEADER_TIMEOUT_SECS", "1.5"),
        ("MCP_BODY_TIMEOUT_SECS", "100000"),
        ("MCP_WRITE_TIMEOUT_SECS", "soon"),
        ("MCP_TRUSTED_PROXIES", "10.0.0.0/33"),
    ];
    for (variable, value) in cases {
        let error = from(&[(variable, value)]).expect_err(variable);
        assert_eq!(error.variable, variable);
        assert!(error.to_string().starts_with(variable), "{error}");
    }
}
