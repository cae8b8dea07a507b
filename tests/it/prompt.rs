//! The interactive prompts, driven through a pseudo-terminal from start to a
//! written project.

use std::fs;
use std::process::Command;

use crate::common;
use rexpect::reader::Options;
use rexpect::session::spawn_with_options;
use tempfile::TempDir;

const DOWN: &str = "\x1b[B";

/// Sends single keys to a prompt that reads the terminal in raw mode. The
/// pause lets it switch modes first: keys typed before that are discarded by
/// the terminal, as they would be for a person typing ahead.
fn keys(p: &mut rexpect::session::PtySession, keys: &str) -> Result<(), rexpect::error::Error> {
    std::thread::sleep(std::time::Duration::from_millis(150));
    p.send(keys)?;
    p.flush()
}

#[test]
fn prompts_collect_every_answer_and_write_the_project() -> Result<(), rexpect::error::Error> {
    let dir = TempDir::new().unwrap();
    let mut command = Command::new(common::BIN);
    command
        .args(["--vcs", "none"])
        .current_dir(dir.path())
        .env("TERM", "xterm-256color")
        .env("NO_COLOR", "1");
    let mut p = spawn_with_options(
        command,
        Options::new()
            .timeout_ms(Some(30_000))
            .strip_ansi_escape_codes(true),
    )?;

    p.exp_string("Project directory")?;
    p.send_line("pty-srv")?;

    p.exp_string("Public base URL of the server")?;
    p.send_line("http://mcp.example.com")?;
    // The same rule as the answers file, and the prompt asks again.
    p.exp_string("http is allowed only for localhost")?;
    p.send_line("https://mcp.example.com")?;

    p.exp_string("Scalekit environment URL")?;
    p.send_line("https://acme.scalekit.com")?;
    p.exp_string("Scalekit resource id")?;
    p.send_line("res_pty")?;

    p.exp_string("Resource identifier")?;
    p.exp_string("https://mcp.example.com/mcp")?;
    p.send_line("")?;
    p.exp_string("Accepted token audiences")?;
    p.exp_string("res_pty, https://mcp.example.com/mcp")?;
    p.send_line("")?;

    p.exp_string("Add a scope?")?;
    keys(&mut p, "y")?;
    p.exp_string("Scope name")?;
    p.send_line("offline_access")?;
    p.exp_string("is not allowed")?;
    p.send_line("todo:read")?;
    p.exp_string("Description (optional)")?;
    p.send_line("Read todos")?;
    p.exp_string("Add another scope?")?;
    keys(&mut p, "y")?;
    p.exp_string("Scope name")?;
    p.send_line("todo:write")?;
    p.exp_string("Description (optional)")?;
    p.send_line("")?;
    p.exp_string("also grants")?;
    keys(&mut p, " \r")?;
    p.exp_string("Add another scope?")?;
    keys(&mut p, "n")?;

    p.exp_string("Add a tool?")?;
    keys(&mut p, "y")?;
    p.exp_string("Tool name")?;
    p.send_line("list_todos")?;
    p.exp_string("Description")?;
    p.send_line("List the caller's todos")?;
    p.exp_string("needs")?;
    keys(&mut p, " \r")?;
    p.exp_string("Add an argument?")?;
    keys(&mut p, "y")?;
    p.exp_string("Argument name")?;
    p.send_line("limit")?;
    p.exp_string("Type")?;
    keys(&mut p, DOWN)?;
    keys(&mut p, "\r")?;
    p.exp_string("Required?")?;
    keys(&mut p, "n")?;
    p.exp_string("Description (optional)")?;
    p.send_line("Most items to return")?;
    p.exp_string("Add another argument?")?;
    keys(&mut p, "n")?;
    p.exp_string("Add another tool?")?;
    keys(&mut p, "y")?;
    p.exp_string("Tool name")?;
    p.send_line("list-todos")?;
    p.exp_string("both become the Rust method `list_todos`")?;
    p.send_line("whoami")?;
    p.exp_string("Description")?;
    p.send_line("")?;
    p.exp_string("needs")?;
    keys(&mut p, "\r")?;
    p.exp_string("Add an argument?")?;
    keys(&mut p, "n")?;
    p.exp_string("Add another tool?")?;
    keys(&mut p, "n")?;

    p.exp_string("Summary")?;
    p.exp_string("whoami (any valid token)")?;
    p.exp_string("Generate the project?")?;
    keys(&mut p, "y")?;
    p.exp_string("Created")?;
    p.exp_eof()?;

    let recorded = fs::read_to_string(dir.path().join("pty-srv/mcp-oauth.yaml")).unwrap();
    let expected = "\
name: pty-srv
server_url: https://mcp.example.com
mcp_path: /mcp
resource: https://mcp.example.com/mcp
scalekit:
  environment_url: https://acme.scalekit.com
  resource_id: res_pty
audience:
- res_pty
- https://mcp.example.com/mcp
port: 3000
scopes:
- name: todo:read
  description: Read todos
- name: todo:write
  includes:
  - todo:read
tools:
- name: list_todos
  description: List the caller's todos
  scopes:
  - todo:read
  arguments:
  - name: limit
    type: integer
    description: Most items to return
    required: false
- name: whoami
  scopes: []
";
    assert!(recorded.contains(expected), "recorded answers:\n{recorded}");
    assert!(dir.path().join("pty-srv/src/main.rs").is_file());
    Ok(())
}

#[test]
fn declining_the_confirmation_writes_nothing() -> Result<(), rexpect::error::Error> {
    let dir = TempDir::new().unwrap();
    let mut command = Command::new(common::BIN);
    command
        .arg("srv")
        .arg("--answers")
        .arg(common::fixture("readme"))
        .current_dir(dir.path())
        .env("TERM", "xterm-256color")
        .env("NO_COLOR", "1");
    let mut p = spawn_with_options(
        command,
        Options::new()
            .timeout_ms(Some(30_000))
            .strip_ansi_escape_codes(true),
    )?;
    // Every field is answered, so the only question is the confirmation.
    p.exp_string("Generate the project?")?;
    keys(&mut p, "n")?;
    p.exp_string("cancelled; nothing was written")?;
    p.exp_eof()?;
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    Ok(())
}
