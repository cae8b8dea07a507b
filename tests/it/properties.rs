//! Property tests of the answers loader: any YAML, arbitrary or the README
//! example with a part replaced, is either a project that renders or a
//! refusal, never a panic; and the CLI answers it with exit 0 or 1, writing
//! nothing on 1. Cases are bounded for CI (`PROPTEST_CASES` raises them).

use std::fs;

use mcp_oauth_new::answers::Answers;
use mcp_oauth_new::render;
use proptest::prelude::*;
use serde_yaml::{Mapping, Value};

use crate::common::{cmd, fixture};

fn readme() -> Value {
    serde_yaml::from_str(&fs::read_to_string(fixture("readme")).unwrap()).unwrap()
}

/// Scalars as YAML and the answers use them, and some they do not.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z0-9:_./-]{0,24}".prop_map(Value::String),
        "(https?|ftp)://[a-z0-9.:\\[\\]-]{0,20}(/[a-z/]{0,10})?".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Sequence),
            prop::collection::vec(("[a-z_]{1,12}", inner), 0..4).prop_map(|entries| {
                Value::Mapping(
                    entries
                        .into_iter()
                        .map(|(key, value)| (Value::String(key), value))
                        .collect::<Mapping>(),
                )
            }),
        ]
    })
}

/// Every node of `value`, as the path of keys and indices that reaches it.
fn paths(value: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(prefix.clone());
    match value {
        Value::Mapping(mapping) => {
            for (key, child) in mapping {
                prefix.push(key.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Sequence(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(Value::from(index as u64));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn node<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(value, |node, step| match (node, step) {
        (Value::Mapping(mapping), key) => mapping.get_mut(key).unwrap(),
        (Value::Sequence(items), Value::Number(index)) => {
            &mut items[index.as_u64().unwrap() as usize]
        }
        _ => unreachable!("paths() only yields existing nodes"),
    })
}

/// The README example with one node replaced by `replacement`, or removed
/// when `remove` and it is a mapping entry.
fn mutated(which: usize, replacement: Value, remove: bool) -> String {
    let mut answers = readme();
    let mut all = Vec::new();
    paths(&answers, &mut Vec::new(), &mut all);
    let path = &all[which % all.len()];
    match path.split_last() {
        Some((key, parent)) if remove => {
            if let Value::Mapping(mapping) = node(&mut answers, parent) {
                mapping.remove(key);
            }
        }
        _ => *node(&mut answers, path) = replacement,
    }
    serde_yaml::to_string(&answers).unwrap()
}

/// Parses, validates and, when valid, renders: the whole way from text to
/// files. Any panic fails the property.
fn load(text: &str) -> bool {
    let Ok(answers) = Answers::from_yaml(text, "answers.yaml") else {
        return false;
    };
    match answers.validate(Some("fuzzed")) {
        Ok(project) => {
            render(&project).expect("a validated project renders");
            true
        }
        Err(_) => false,
    }
}

proptest! {
    #[test]
    fn any_text_is_loaded_or_refused(text in any::<String>()) {
        load(&text);
    }

    #[test]
    fn any_yaml_document_is_loaded_or_refused(document in value()) {
        load(&serde_yaml::to_string(&document).unwrap());
    }

    #[test]
    fn the_readme_example_with_any_part_replaced_is_loaded_or_refused(
        which in any::<usize>(),
        replacement in value(),
        remove in any::<bool>(),
    ) {
        load(&mutated(which, replacement, remove));
    }
}

proptest! {
    // Each case runs the binary: fewer of them.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_cli_exits_0_or_1_and_writes_nothing_on_1(
        which in any::<usize>(),
        replacement in value(),
        remove in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let answers = dir.path().join("answers.yaml");
        let text = mutated(which, replacement, remove);
        fs::write(&answers, &text).unwrap();
        let target = dir.path().join("out");
        let output = cmd()
            .arg(&target)
            .args(["--answers", answers.to_str().unwrap(), "--vcs", "none", "-q"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        match output.status.code() {
            Some(0) => prop_assert!(target.join("Cargo.toml").is_file()),
            Some(1) => {
                prop_assert!(!target.exists(), "wrote {} on a refusal", target.display());
                prop_assert!(!stderr.trim().is_empty(), "a refusal says why");
                let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
                prop_assert_eq!(left.len(), 1, "only the answers file remains");
            }
            other => prop_assert!(false, "exit {:?} for:\n{}\n{}", other, text, stderr),
        }
    }
}
