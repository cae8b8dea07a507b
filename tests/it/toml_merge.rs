//! Property tests of `update`'s merge of a TOML table: whatever the owner and
//! the templates each add, change or remove, the merge is clean exactly when
//! no key was changed differently on both sides, and then holds each key as
//! a three-way merge of its value says, once.

use std::collections::BTreeMap;
use std::path::Path;

use mcp_oauth_new::update::{Labels, Merged, merge_file};
use proptest::prelude::*;

const KEYS: [&str; 6] = ["axum", "itoa", "serde", "tokio", "tower", "url"];

/// One side's change to a key: kept, set to a version, or removed.
#[derive(Debug, Clone, Copy)]
enum Edit {
    Keep,
    Set(u8),
    Remove,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => Just(Edit::Keep),
        2 => (1..4u8).prop_map(Edit::Set),
        1 => Just(Edit::Remove),
    ]
}

type Table = BTreeMap<&'static str, u8>;

fn apply(base: &Table, edits: &[Edit]) -> Table {
    let mut out = base.clone();
    for (key, edit) in KEYS.iter().zip(edits) {
        match edit {
            Edit::Keep => {}
            Edit::Set(version) => {
                out.insert(key, *version);
            }
            Edit::Remove => {
                out.remove(key);
            }
        }
    }
    out
}

/// The manifest with `table` as its dependencies: the base's keys in their
/// order, then the keys this side added, as an owner or a template appends.
fn manifest(base: &Table, table: &Table) -> String {
    let mut text = String::from("[package]\nname = \"p\"\n\n[dependencies]\n");
    let old = base.keys().filter(|key| table.contains_key(*key));
    let new = table.keys().filter(|key| !base.contains_key(*key));
    for key in old.chain(new) {
        text.push_str(&format!("{key} = \"{}\"\n", table[key]));
    }
    text.push_str("\n[features]\ndefault = []\n");
    text
}

/// The dependencies of a merged manifest, each key with how often it occurs.
fn dependencies(text: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let start = text.find("[dependencies]\n").expect("the table") + "[dependencies]\n".len();
    let end = text.find("\n[features]").expect("the next table");
    for line in text[start..end].lines().filter(|line| !line.is_empty()) {
        let (key, value) = line.split_once(" = ").expect(line);
        out.entry(key.to_string())
            .or_default()
            .push(value.trim_matches('"').parse().expect(line));
    }
    out
}

proptest! {
    #[test]
    fn a_toml_table_merges_cleanly_exactly_when_no_key_conflicts(
        base in prop::collection::btree_map(prop::sample::select(&KEYS[..]), 1..4u8, 0..5),
        ours in prop::collection::vec(edit(), KEYS.len()),
        theirs in prop::collection::vec(edit(), KEYS.len()),
    ) {
        let (mine, new) = (apply(&base, &ours), apply(&base, &theirs));
        let mut expected = BTreeMap::new();
        let mut conflict = false;
        for key in KEYS {
            let (b, o, t) = (base.get(key), mine.get(key), new.get(key));
            let merged = if o == b { t } else if t == b || o == t { o } else {
                conflict = true;
                continue;
            };
            if let Some(version) = merged {
                expected.insert(key.to_string(), vec![*version]);
            }
        }
        let labels = Labels { base: "0.1.0", theirs: "0.2.0" };
        let merged = merge_file(
            Path::new("Cargo.toml"),
            manifest(&base, &base).as_bytes(),
            manifest(&base, &mine).as_bytes(),
            manifest(&base, &new).as_bytes(),
            labels,
        );
        match merged {
            Merged::Clean(text) => {
                prop_assert!(!conflict, "a conflict merged cleanly");
                let text = String::from_utf8(text).unwrap();
                prop_assert_eq!(dependencies(&text), expected, "{}", text);
            }
            Merged::Conflict(text) => {
                prop_assert!(conflict, "{}", String::from_utf8_lossy(&text));
            }
        }
    }
}
