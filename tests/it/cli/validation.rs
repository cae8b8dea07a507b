//! Every rule of the answers, each reported with its field path.

use super::*;

/// Each rule of the answers schema, with the field path and the words the
/// error must carry.
#[test]
fn every_validation_rule_is_enforced_with_its_field_path() {
    let long_tool = "t".repeat(129);
    let cases: Vec<(String, &str)> = vec![
        ("nonsense: 1\n".into(), "nonsense: unknown key `nonsense`"),
        (
            "scalekit_url: x\n".into(),
            "scalekit_url: unknown key `scalekit_url`; allowed here: version, name,",
        ),
        (
            "tools:\n  - name: t\n    scopes: []\n    scope: []\n".into(),
            "tools[0].scope: unknown key `scope`; allowed here: name, description, scopes, arguments",
        ),
        (
            "tools: [{name: t, scopes: [], arguments: [{name: a, type: string, optional: true}]}]\n".into(),
            "tools[0].arguments[0].optional: unknown key `optional`",
        ),
        ("version: 2\n".into(), "version: found 2"),
        ("name: 9lives\n".into(), "name: `9lives` is not allowed"),
        ("name: test\n".into(), "name: `test` is reserved"),
        ("name: \"a b\"\n".into(), "name: `a b` is not allowed"),
        (
            "server_url: mcp.example.com\n".into(),
            "server_url: `mcp.example.com` is not an absolute URL",
        ),
        (
            "server_url: http://mcp.example.com\n".into(),
            "http is allowed only for localhost, 127.0.0.1 and [::1]",
        ),
        (
            "server_url: ftp://mcp.example.com\n".into(),
            "has the scheme `ftp`",
        ),
        (
            "server_url: https://mcp.example.com/base\n".into(),
            "server_url: `https://mcp.example.com/base` has a path or query",
        ),
        (
            "resource: https://mcp.example.com/mcp#frag\n".into(),
            "resource: `https://mcp.example.com/mcp#frag` has a fragment",
        ),
        (
            "resource: https://other.example.com/mcp\n".into(),
            "is not on the server URL's origin",
        ),
        (
            "resource: https://mcp.example.com/elsewhere\n".into(),
            "neither the MCP endpoint's URL nor a prefix of it",
        ),
        (
            "resource_documentation: https://u:p@docs.example.com\n".into(),
            "resource_documentation: `https://u:p@docs.example.com` contains a user name",
        ),
        (
            "resource_documentation: \"https://docs.example.com/a`b\"\n".into(),
            "contains the character '`', which a URL may not hold",
        ),
        (
            "resource_documentation: \"https://docs.example.com/a b\"\n".into(),
            "contains the character ' '",
        ),
        ("mcp_path: mcp\n".into(), "mcp_path: `mcp` is not allowed"),
        ("mcp_path: /mcp/\n".into(), "mcp_path: `/mcp/` is not allowed"),
        (
            "mcp_path: /.well-known/x\n".into(),
            "is taken by the server's own routes",
        ),
        ("port: 70000\n".into(), "port: 70000 is not allowed"),
        ("audience: []\n".into(), "audience: is empty"),
        (
            "audience: [\"a,b\"]\n".into(),
            "audience[0]: `a,b` is not allowed",
        ),
        ("audience: [a, a]\n".into(), "audience[1]: `a` is listed twice"),
        (
            "scopes: [{name: \"a b\"}]\n".into(),
            "scopes[0].name: `a b` is not allowed",
        ),
        (
            "scopes: [{name: \"a\\\"b\"}]\n".into(),
            "scopes[0].name: `a\"b` is not allowed",
        ),
        (
            "scopes: [{name: \"a\\\\b\"}]\n".into(),
            "scopes[0].name: `a\\b` is not allowed",
        ),
        (
            "scopes: [{name: offline_access}]\n".into(),
            "scopes[0].name: `offline_access` is not allowed",
        ),
        (
            "scopes: [{name: a}, {name: a}]\n".into(),
            "scopes[1].name: `a` is declared twice",
        ),
        (
            "scopes: [{name: a, includes: [b]}]\n".into(),
            "scopes[0].includes[0]: `b` is not declared",
        ),
        (
            "scopes: [{name: a, includes: [a]}]\n".into(),
            "scopes[0].includes[0]: `a` includes itself",
        ),
        (
            "scopes: [{name: a, includes: [b]}, {name: b, includes: [a]}]\n".into(),
            "the includes form a cycle (a -> b -> a)",
        ),
        (
            "scopes: [{name: a, description: \"bell\\a\"}]\n".into(),
            "scopes[0].description: contains the control character U+0007",
        ),
        (
            "tools: [{name: \"has space\", scopes: []}]\n".into(),
            "tools[0].name: `has space` is not allowed",
        ),
        (
            format!("tools: [{{name: {long_tool}, scopes: []}}]\n"),
            "a tool name is 1 to 128 of",
        ),
        (
            "tools: [{name: t, scopes: []}, {name: t, scopes: []}]\n".into(),
            "tools[1].name: `t` is declared twice",
        ),
        (
            "tools: [{name: list-todos, scopes: []}, {name: list.todos, scopes: []}]\n".into(),
            "tools[1].name: `list.todos` and `list-todos` both become the Rust method `list_todos`",
        ),
        (
            "tools: [{name: t}]\n".into(),
            "tools[0].scopes: missing: list the scopes this tool needs",
        ),
        (
            "scopes: [{name: a}]\ntools: [{name: t, scopes: [b]}]\n".into(),
            "tools[0].scopes[0]: `b` is not declared under `scopes`; declared: a",
        ),
        (
            "tools: [{name: t, scopes: [], arguments: [{name: x, type: date}]}]\n".into(),
            "unknown variant `date`, expected one of `string`, `integer`, `number`, `boolean`",
        ),
        (
            "tools: [{name: t, scopes: [], arguments: [{name: x, type: string}, {name: x, type: string}]}]\n".into(),
            "tools[0].arguments[1].name: `x` is declared twice",
        ),
        (
            "tools: [{name: t, scopes: [], arguments: [{name: \"a b\", type: string}]}]\n".into(),
            "tools[0].arguments[0].name: `a b` is not allowed",
        ),
        ("tools: [\n  - {name: t\n".into(), "(line 6, column 3)"),
    ];
    for (extra, expected) in cases {
        let answers = answers_with(&extra);
        let output = dry_run(&answers).code(1).get_output().clone();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains(expected),
            "answers:\n{answers}\nexpected {expected:?} in:\n{stderr}"
        );
        assert!(output.stdout.is_empty(), "nothing is listed for {answers}");
    }
}

#[test]
fn loopback_http_urls_are_accepted() {
    for server in [
        "http://localhost:3000",
        "http://127.0.0.1",
        "http://[::1]:8080",
    ] {
        dry_run(&answers_with(&format!("server_url: {server}\n"))).success();
    }
}

#[test]
fn all_problems_are_reported_together() {
    let answers = "server_url: http://x.example\nport: 0\nscopes: [{name: offline_access}]\n\
                   tools: [{name: \"a b\", scopes: [nope]}]\n";
    dry_run(answers)
        .code(1)
        .stderr(contains("the answers have 7 problems"))
        .stderr(contains("server_url:"))
        .stderr(contains("scalekit.environment_url: missing"))
        .stderr(contains("scalekit.resource_id: missing"))
        .stderr(contains("port:"))
        .stderr(contains("scopes[0].name:"))
        .stderr(contains("tools[0].name:"))
        .stderr(contains("tools[0].scopes[0]:"));
}

#[test]
fn every_unknown_key_is_reported_at_once() {
    dry_run(&answers_with(
        "colour: red\nscopes: [{name: a, parent: b}]\n",
    ))
    .code(1)
    .stderr(contains("the answers have 2 problems"))
    .stderr(contains("colour: unknown key"))
    .stderr(contains("scopes[0].parent: unknown key"));
}
