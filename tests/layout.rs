//! Generated Rust must pass `cargo fmt --check` whatever the length of the
//! text in it. rustfmt lays attributes out on one line or one item per line
//! depending on their width, so the generator does the same; this test holds
//! it to rustfmt around every boundary, with text of single- and double-width
//! characters.

use std::process::Command;

use mcp_oauth_new::Answers;
use mcp_oauth_new::answers::{ArgType, ArgumentAnswer, ScalekitAnswers, ToolAnswer};

fn tool(name: String, description: String) -> ToolAnswer {
    ToolAnswer {
        name,
        description: Some(description.clone()),
        scopes: Some(Vec::new()),
        arguments: vec![ArgumentAnswer {
            name: "value".to_string(),
            ty: ArgType::String,
            description: Some(description),
            required: true,
        }],
    }
}

#[test]
fn generated_rust_is_rustfmt_clean_at_every_length() {
    let mut tools = Vec::new();
    for (i, unit) in ["x", "é", "東", "🚀", "\\\""].into_iter().enumerate() {
        for length in 30..=110 {
            tools.push(tool(format!("t{i}_{length}"), unit.repeat(length)));
        }
    }
    for length in [1_usize, 60, 64, 65, 70, 71, 90, 128] {
        tools.push(tool(
            format!("n{length:03}{}", "a".repeat(length.saturating_sub(4))),
            "short".to_string(),
        ));
    }
    let answers = Answers {
        server_url: Some("https://mcp.example.com".to_string()),
        scalekit: Some(ScalekitAnswers {
            environment_url: Some("https://acme.scalekit.com".to_string()),
            resource_id: Some("res_1".to_string()),
        }),
        tools: Some(tools),
        ..Answers::default()
    };
    let project = answers.validate(Some("layout")).unwrap();
    let files = mcp_oauth_new::render(&project).unwrap();
    let dir = tempfile::TempDir::new().unwrap();
    for (path, contents) in &files {
        if path.extension().is_some_and(|e| e == "rs") {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, contents).unwrap();
        }
    }
    for file in [
        "src/tools.rs",
        "src/scopes.rs",
        "src/config.rs",
        "tests/tools.rs",
        "tests/client.rs",
    ] {
        let output = Command::new("rustfmt")
            .args(["--check", "--edition", "2024"])
            .arg(dir.path().join(file))
            .output()
            .expect("rustfmt is installed (rustup component add rustfmt)");
        assert!(
            output.status.success(),
            "{file} is not rustfmt-clean:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}
