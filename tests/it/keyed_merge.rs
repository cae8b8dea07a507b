//! Property tests of `update`'s merge by key: whatever the owner and the
//! templates each add, change or remove among a TOML table's entries, a Rust
//! file's `mod` declarations, a `.env` file's variables or a YAML mapping's
//! keys, the merge is clean exactly when no key was changed differently on
//! both sides, and then holds each key once, as a three-way merge of its
//! value says.

use std::collections::BTreeMap;
use std::path::Path;

use mcp_oauth_new::update::{Labels, Merged, merge_file};
use proptest::prelude::*;

const KEYS: [&str; 6] = ["axum", "itoa", "serde", "tokio", "tower", "url"];

/// One side's change to a key: kept, set to a value, or removed.
#[derive(Debug, Clone, Copy)]
enum Edit {
    Keep,
    Set(u8),
    Remove,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => Just(Edit::Keep),
        2 => (0..3u8).prop_map(Edit::Set),
        1 => Just(Edit::Remove),
    ]
}

type Entries = BTreeMap<&'static str, u8>;

fn apply(base: &Entries, edits: &[Edit]) -> Entries {
    let mut out = base.clone();
    for (key, edit) in KEYS.iter().zip(edits) {
        match edit {
            Edit::Keep => {}
            Edit::Set(value) => {
                out.insert(key, *value);
            }
            Edit::Remove => {
                out.remove(key);
            }
        }
    }
    out
}

/// A file of each kind: where its entries start and end, and an entry's line
/// (the value is a visibility in Rust). The YAML file's other mapping holds
/// one of the keys, which the merged mapping may hold too.
#[derive(Debug, Clone, Copy)]
struct Kind {
    path: &'static str,
    header: &'static str,
    footer: &'static str,
    line: fn(&str, u8) -> String,
}

const VISIBILITY: [&str; 3] = ["", "pub ", "pub(crate) "];

const KINDS: [Kind; 4] = [
    Kind {
        path: "Cargo.toml",
        header: "[package]\nname = \"p\"\n\n[dependencies]\n",
        footer: "\n[features]\ndefault = []\n",
        line: |key, value| format!("{key} = \"{value}\""),
    },
    Kind {
        path: "src/lib.rs",
        header: "//! A crate.\n\n",
        footer: "\npub fn run() {}\n",
        line: |key, value| format!("{}mod {key};", VISIBILITY[usize::from(value)]),
    },
    Kind {
        path: ".env.example",
        header: "# Settings.\nLISTEN=127.0.0.1:3000\n",
        footer: "",
        line: |key, value| format!("{key}=v{value}"),
    },
    Kind {
        path: "deploy/kubernetes/configmap.yaml",
        header: "kind: ConfigMap\nmetadata:\n  name: p\ndata:\n",
        footer: "other:\n  axum: \"0\"\n",
        line: |key, value| format!("  {key}: \"{value}\""),
    },
];

impl Kind {
    /// The file with `entries`: the base's keys in their order, then the
    /// keys this side added, as an owner or a template appends them.
    fn file(&self, base: &Entries, entries: &Entries) -> String {
        let old = base.keys().filter(|key| entries.contains_key(*key));
        let new = entries.keys().filter(|key| !base.contains_key(*key));
        let mut text = self.header.to_string();
        for key in old.chain(new) {
            text.push_str(&(self.line)(key, entries[key]));
            text.push('\n');
        }
        text + self.footer
    }

    /// A merged file's entries, each key with every value it has there.
    fn entries(&self, text: &str) -> BTreeMap<String, Vec<u8>> {
        let body = text
            .strip_prefix(self.header)
            .and_then(|rest| rest.strip_suffix(self.footer))
            .expect(text);
        let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for line in body.lines() {
            let (key, value) = KEYS
                .iter()
                .flat_map(|key| (0..3).map(move |value| (*key, value)))
                .find(|(key, value)| (self.line)(key, *value) == line)
                .expect(line);
            out.entry(key.to_string()).or_default().push(value);
        }
        out
    }
}

proptest! {
    #[test]
    fn entries_merge_cleanly_exactly_when_no_key_conflicts(
        kind in prop::sample::select(&KINDS[..]),
        base in prop::collection::btree_map(prop::sample::select(&KEYS[..]), 0..3u8, 0..5),
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
            if let Some(value) = merged {
                expected.insert(key.to_string(), vec![*value]);
            }
        }
        let labels = Labels { base: "0.1.0", theirs: "0.2.0" };
        let merged = merge_file(
            Path::new(kind.path),
            kind.file(&base, &base).as_bytes(),
            kind.file(&base, &mine).as_bytes(),
            kind.file(&base, &new).as_bytes(),
            labels,
        );
        match merged {
            Merged::Clean(text) => {
                prop_assert!(!conflict, "a conflict merged cleanly");
                let text = String::from_utf8(text).unwrap();
                prop_assert_eq!(kind.entries(&text), expected, "{}", text);
            }
            Merged::Conflict(text) => {
                prop_assert!(conflict, "{}", String::from_utf8_lossy(&text));
            }
        }
    }
}
