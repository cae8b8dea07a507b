//! Generated projects are real: each answer fixture is generated, then built,
//! tested, linted and format-checked with the stable toolchain, exactly as a
//! user would. The projects share one target directory so that only the first
//! pays for compiling the dependencies.

mod common;

fn generate_build_test_lint(fixture: &str) {
    let (_dir, project) = common::generate(fixture);
    common::build_test_lint(&project);
}

#[test]
fn minimal_project_builds_tests_and_lints_clean() {
    generate_build_test_lint("minimal");
}

#[test]
fn readme_project_builds_tests_and_lints_clean() {
    generate_build_test_lint("readme");
}

#[test]
fn hostile_project_builds_tests_and_lints_clean() {
    generate_build_test_lint("hostile");
}

/// The `otel` feature (traces over OTLP) builds, passes the project's tests,
/// its own `tests/telemetry.rs` included, and lints clean.
#[test]
fn readme_project_with_otel_builds_tests_and_lints_clean() {
    let (_dir, project) = common::generate("readme");
    common::build_test_lint_with(&project, &["--features", "otel"]);
}

/// Fail closed: a `#[tool]` method added by hand without its entry in
/// `TOOL_SCOPES` makes the project's own tests fail and its server refuse to
/// start, naming the tool.
#[test]
fn a_tool_added_by_hand_without_a_scope_entry_fails_the_tests_and_stops_the_server() {
    let (_dir, project) = common::generate("readme");
    let tools = project.join("src/tools.rs");
    let text = std::fs::read_to_string(&tools).unwrap();
    let end = text.rfind("}\n").unwrap();
    let added = "\n    #[tool(name = \"added_by_hand\")]\n    async fn added_by_hand(&self) -> Result<CallToolResult, ErrorData> {\n        Ok(CallToolResult::success(Vec::new()))\n    }\n";
    std::fs::write(&tools, format!("{}{added}{}", &text[..end], &text[end..])).unwrap();

    let _one_at_a_time = common::one_cargo_at_a_time();
    let tests = common::cargo(&project, &["test", "--locked", "--test", "scopes"]);
    let output = String::from_utf8_lossy(&tests.stdout);
    assert!(!tests.status.success(), "the tests passed:\n{output}");
    assert!(
        output.contains("the tool added_by_hand has no entry in TOOL_SCOPES"),
        "{output}\n{}",
        String::from_utf8_lossy(&tests.stderr)
    );

    // Run the binary itself, on a free port, and give it a bounded time: a
    // server that starts anyway must fail the test, not hang it.
    let server = common::build_server(&project, "todo-mcp");
    let mut server = std::process::Command::new(server)
        .env("MCP_LISTEN_ADDR", "127.0.0.1:0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            server.kill().unwrap();
            panic!("the server started with a tool that has no scope entry");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("the tool added_by_hand has no entry in TOOL_SCOPES"),
        "{stderr}"
    );
}

/// The Kubernetes manifests validate against the Kubernetes schemas (with
/// `kubernetes-validate`, installed from PyPI by `.ci/run`), the ConfigMap
/// sets only variables the server reads, and a server started with exactly
/// those variables serves its metadata and metrics. The listen addresses are
/// moved to loopback, as tests only bind there.
#[test]
fn the_kubernetes_manifests_validate_and_their_config_serves() {
    let (_dir, project) = common::generate("readme");
    let manifests = project.join("deploy/kubernetes");
    let validated = std::process::Command::new("kubernetes-validate")
        .args(["--strict", "--quiet"])
        .args(
            ["configmap", "deployment", "service", "hpa", "pdb"]
                .map(|name| manifests.join(format!("{name}.yaml"))),
        )
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "kubernetes-validate is needed ({error}): pip install kubernetes-validate \
                 (.ci/run installs it)"
            )
        });
    assert!(
        validated.status.success(),
        "{}{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );

    let configmap: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(manifests.join("configmap.yaml")).unwrap())
            .unwrap();
    let config_rs = std::fs::read_to_string(project.join("src/config.rs")).unwrap();
    let mut variables: Vec<(String, String)> = configmap["data"]
        .as_mapping()
        .expect("the ConfigMap has data")
        .iter()
        .map(|(key, value)| {
            let key = key.as_str().unwrap().to_owned();
            assert!(
                config_rs.contains(&format!("var(\"{key}\")")),
                "config.rs does not read {key}"
            );
            (key, value.as_str().unwrap().to_owned())
        })
        .collect();
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (port, metrics_port) = (free_port(), free_port());
    for (key, value) in &mut variables {
        match key.as_str() {
            "MCP_LISTEN_ADDR" => *value = format!("127.0.0.1:{port}"),
            "MCP_METRICS_ADDR" => *value = format!("127.0.0.1:{metrics_port}"),
            _ => assert!(!value.starts_with("0.0.0.0"), "{key}={value}"),
        }
    }

    let _one_at_a_time = common::one_cargo_at_a_time();
    let server = common::build_server(&project, "todo-mcp");
    let mut server = std::process::Command::new(server)
        .env_clear()
        .envs(variables)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let get = |url: String| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match ureq::get(&url).call() {
                Ok(mut response) => return response.body_mut().read_to_string().unwrap(),
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(error) => panic!("{url}: {error}"),
            }
        }
    };
    let metadata = get(format!(
        "http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
    ));
    let metrics = get(format!("http://127.0.0.1:{metrics_port}/metrics"));
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(metadata.contains("\"authorization_servers\""), "{metadata}");
    assert!(metrics.contains("mcp_http_requests_total"), "{metrics}");
}
