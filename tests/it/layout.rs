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
    assert_rustfmt_clean(&answers);
}

/// Tables of one entry: rustfmt would hug a lone struct literal to its
/// brackets (`&[Scope {`) but for the comment that opens each table.
#[test]
fn tables_of_one_entry_are_rustfmt_clean() {
    let text = "server_url: https://mcp.example.com\n\
                scalekit: {environment_url: https://acme.scalekit.com, resource_id: res_1}\n\
                audience: [res_1]\n\
                scopes: [{name: a}]\n\
                tools: [{name: t, scopes: [a]}]\n";
    assert_rustfmt_clean(&Answers::from_yaml(text, "one").unwrap());
}

fn assert_rustfmt_clean(answers: &Answers) {
    let project = answers.validate(Some("layout")).unwrap();
    let files = mcp_oauth_new::render(&project).unwrap();
    let dir = tempfile::TempDir::new().unwrap();
    let mut checked = Vec::new();
    for (path, contents) in &files {
        if path.extension().is_some_and(|e| e == "rs") {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, contents).unwrap();
            checked.push(file);
        }
    }
    assert_rustfmt_accepts(&checked);
}

/// The slices and options of the generated data tables (`scopes: &[...]`,
/// `audience: &[...]`, `resource_documentation: Some(...)`) at both indents
/// they stand at, around every width boundary: one line, packed short items,
/// one item per line, and items too long for any line.
#[test]
fn data_table_fields_are_rustfmt_clean_at_every_length() {
    use mcp_oauth_new::render::layout::{option_field, slice_field};

    let mut text = String::from(
        "pub struct S {\n    pub name: &'static str,\n    pub f: &'static [&'static str],\n    pub o: Option<&'static str>,\n}\n",
    );
    let mut case = 0;
    let mut push = |items: Vec<String>| {
        let items: Vec<&str> = items.iter().map(String::as_str).collect();
        let value = items.first().map(|first| first.repeat(2));
        text.push_str(&format!(
            "pub const A{case}: S = S {{\n    name: \"an entry\",\n{}\n{}\n}};\npub const B{case}: &[S] = &[\n    // A table.\n    S {{\n        name: \"an entry\",\n{}\n{}\n    }},\n];\n",
            slice_field(4, "f", &items),
            option_field(4, "o", value.as_deref()),
            slice_field(8, "f", &items),
            option_field(8, "o", value.as_deref()),
        ));
        case += 1;
    };
    push(Vec::new());
    for count in 1..=12 {
        for length in (1..=40).chain([45, 50, 55, 58, 59, 60, 61, 62, 70, 80, 81, 82, 90, 100, 120])
        {
            push(
                (0..count)
                    .map(|i| format!("{}{i}", "s".repeat(length)))
                    .collect(),
            );
        }
    }
    for count in [20, 30, 45] {
        for length in 1..=8 {
            push((0..count).map(|_| "x".repeat(length)).collect());
        }
    }
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("tables.rs");
    std::fs::write(&file, &text).unwrap();
    assert_rustfmt_accepts(&[file]);
}

/// `rustfmt --check` passes on `files`; else the first lines of its diff.
fn assert_rustfmt_accepts(files: &[std::path::PathBuf]) {
    let output = Command::new("rustfmt")
        .args(["--check", "--edition", "2024"])
        .args(files)
        .output()
        .expect("rustfmt is installed (rustup component add rustfmt)");
    assert!(
        output.status.success(),
        "not rustfmt-clean:\n{}",
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .take(60)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
