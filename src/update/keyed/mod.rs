//! Line-merge conflicts between side-by-side entries that each have a key,
//! resolved key by key where that is certain. When the owner adds a
//! dependency, a module or a variable next to one the templates add or
//! change, the line merge conflicts though the two touch different keys; this
//! merges such a hunk by key, as a hand edit would have combined them.
//!
//! The entries ([`Syntax`]) are a TOML table's one-line `key = value` lines,
//! a Rust file's `mod name;` declarations, a `.env` file's `NAME=value`
//! lines and a YAML mapping's `key: scalar` lines, each with the comment (and,
//! in Rust, attribute) lines above it. A hunk is resolved only when every line
//! of all three sides belongs to such an entry, no key repeats, no key was
//! changed differently on both sides, and no merged key appears elsewhere in
//! its table, mapping or file. Anything else keeps its conflict markers.

mod syntax;

pub use syntax::Syntax;

use super::merge::{BASE, END, OURS, THEIRS};

/// Whether `line` is one of diffy's marker lines (of another hunk).
fn is_marker(line: &str) -> bool {
    [OURS, BASE, THEIRS, END].contains(&line)
}

/// `marked` (diffy's diff3 output, from inputs that hold no marker lines)
/// with every hunk that can be merged by key replaced by its merge.
pub fn resolve(marked: &[u8], syntax: Syntax) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(marked) else {
        return marked.to_vec();
    };
    let lines: Vec<&str> = text.split('\n').collect();
    // A `=======` line of the file's own would make the hunks ambiguous.
    let count = |marker: &str| lines.iter().filter(|&&line| line == marker).count();
    if count(THEIRS) != count(OURS) {
        return marked.to_vec();
    }
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let Some(hunk) = Hunk::at(&lines, i) else {
            out.push(lines[i]);
            i += 1;
            continue;
        };
        let merged = merge_hunk(&hunk, syntax).filter(|merged| {
            let keys: Vec<String> = merged.iter().filter_map(|l| syntax.key_of(l)).collect();
            keys.is_empty()
                || syntax
                    .keys_around(&lines, i, hunk.end, &keys)
                    .is_some_and(|around| keys.iter().all(|key| !around.contains(key)))
        });
        out.extend(merged.unwrap_or_else(|| lines[i..hunk.end].to_vec()));
        i = hunk.end;
    }
    out.join("\n").into_bytes()
}

/// One conflict: each side's lines, and the index just past its end marker.
struct Hunk<'a> {
    ours: &'a [&'a str],
    base: &'a [&'a str],
    theirs: &'a [&'a str],
    end: usize,
}

impl<'a> Hunk<'a> {
    /// The hunk whose start marker is `lines[start]`, if it is one.
    fn at(lines: &'a [&'a str], start: usize) -> Option<Hunk<'a>> {
        if lines[start] != OURS {
            return None;
        }
        let find = |from: usize, marker: &str| {
            (from..lines.len())
                .find(|&j| lines[j] == marker)
                .map(|j| (j, &lines[from..j]))
        };
        let (base_at, ours) = find(start + 1, BASE)?;
        let (theirs_at, base) = find(base_at + 1, THEIRS)?;
        let (end_at, theirs) = find(theirs_at + 1, END)?;
        Some(Hunk {
            ours,
            base,
            theirs,
            end: end_at + 1,
        })
    }
}

/// One entry: its key, and its lines (the comments above it, then itself).
#[derive(PartialEq, Eq)]
struct Entry<'a> {
    key: String,
    lines: &'a [&'a str],
}

/// The hunk merged by key, or `None` when that is not certain.
fn merge_hunk<'a>(hunk: &Hunk<'a>, syntax: Syntax) -> Option<Vec<&'a str>> {
    let [base, ours, theirs] =
        [hunk.base, hunk.ours, hunk.theirs].map(|lines| entries(lines, syntax));
    let (base, ours, theirs) = (base?, ours?, theirs?);
    let sides = [&base[..], &ours[..], &theirs[..]];
    // The owner's order; each new key of the templates' goes after the key
    // it follows there, or before the one it precedes, or last.
    let mut placed: Vec<&Entry<'a>> = Vec::new();
    for entry in &ours {
        if let Some(kept) = pick(sides, &entry.key).ok()? {
            placed.push(kept);
        }
    }
    for (index, entry) in theirs.iter().enumerate() {
        if placed.iter().any(|p| p.key == entry.key) {
            continue;
        }
        let Some(new) = pick(sides, &entry.key).ok()? else {
            continue;
        };
        let position = |other: &Entry<'_>| placed.iter().position(|p| p.key == other.key);
        let at = theirs[..index]
            .iter()
            .rev()
            .find_map(|before| position(before).map(|at| at + 1))
            .or_else(|| theirs[index + 1..].iter().find_map(position))
            .unwrap_or(placed.len());
        placed.insert(at, new);
    }
    for entry in &base {
        pick(sides, &entry.key).ok()?;
    }
    if syntax.sorted() {
        placed.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Some(
        placed
            .iter()
            .flat_map(|e| e.lines.iter().copied())
            .collect(),
    )
}

/// The merged entry for `key` from `[base, ours, theirs]` (`None`: removed),
/// or `Err` when both sides changed it differently.
fn pick<'e, 'a>(sides: [&'e [Entry<'a>]; 3], key: &str) -> Result<Option<&'e Entry<'a>>, ()> {
    let [b, o, t] = sides.map(|side| side.iter().find(|e| e.key == key));
    match () {
        _ if o == b => Ok(t),
        _ if t == b || o == t => Ok(o),
        _ => Err(()),
    }
}

/// A side's lines as entries; `None` unless each is an entry's own line or
/// trivia above one, and no key repeats.
fn entries<'a>(lines: &'a [&'a str], syntax: Syntax) -> Option<Vec<Entry<'a>>> {
    let mut out: Vec<Entry<'a>> = Vec::new();
    let mut start = 0;
    for (i, line) in lines.iter().enumerate() {
        if syntax.is_trivia(line) {
            continue;
        }
        let key = syntax.key_of(line)?;
        if out.iter().any(|e| e.key == key) {
            return None;
        }
        out.push(Entry {
            key,
            lines: &lines[start..=i],
        });
        start = i + 1;
    }
    (start == lines.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(ours: &str, base: &str, theirs: &str) -> String {
        format!("[dependencies]\n{OURS}\n{ours}{BASE}\n{base}{THEIRS}\n{theirs}{END}\nz = \"1\"\n")
    }

    fn resolved(text: &str) -> String {
        String::from_utf8(resolve(text.as_bytes(), Syntax::Toml)).unwrap()
    }

    #[test]
    fn an_owners_entry_beside_a_changed_one_keeps_both() {
        let text = marked(
            "tokio = \"1.0\"\n# Ours.\nitoa = \"1\"\n",
            "tokio = \"1.0\"\n",
            "tokio = { version = \"1.1\", features = [\"time\"] }\ntower = \"0.5\"\n",
        );
        assert_eq!(
            resolved(&text),
            "[dependencies]\ntokio = { version = \"1.1\", features = [\"time\"] }\n\
             tower = \"0.5\"\n# Ours.\nitoa = \"1\"\nz = \"1\"\n"
        );
    }

    #[test]
    fn entries_added_on_both_sides_keep_their_order() {
        let text = marked("a = \"1\"\nc = \"1\"\n", "", "b = \"1\"\n");
        assert_eq!(
            resolved(&text),
            "[dependencies]\na = \"1\"\nc = \"1\"\nb = \"1\"\nz = \"1\"\n"
        );
        let text = marked("c = \"1\"\n", "", "a = \"1\"\nb = \"1\"\n");
        assert_eq!(
            resolved(&text),
            "[dependencies]\nc = \"1\"\na = \"1\"\nb = \"1\"\nz = \"1\"\n"
        );
        let text = marked(
            "b = \"1\"\nx = \"1\"\n",
            "b = \"1\"\n",
            "a = \"1\"\nb = \"2\"\n",
        );
        assert_eq!(
            resolved(&text),
            "[dependencies]\na = \"1\"\nb = \"2\"\nx = \"1\"\nz = \"1\"\n"
        );
    }

    #[test]
    fn removals_on_one_side_are_kept() {
        let text = marked(
            "b = \"1\"\n",
            "a = \"1\"\nb = \"1\"\n",
            "a = \"1\"\nb = \"2\"\n",
        );
        assert_eq!(resolved(&text), "[dependencies]\nb = \"2\"\nz = \"1\"\n");
        let text = marked("b = \"2\"\n", "a = \"1\"\nb = \"1\"\n", "a = \"1\"\n");
        assert_eq!(resolved(&text), text, "b changed here and removed there");
    }

    #[test]
    fn the_same_key_changed_differently_stays_a_conflict() {
        let text = marked("a = \"2\"\n", "a = \"1\"\n", "a = \"3\"\n");
        assert_eq!(resolved(&text), text);
        let text = marked("a = \"2\"\n", "", "a = \"3\"\n");
        assert_eq!(resolved(&text), text);
    }

    #[test]
    fn anything_but_one_line_entries_stays_a_conflict() {
        for (ours, theirs) in [
            ("[dev-dependencies]\na = \"1\"\n", "b = \"1\"\n"),
            ("a = [\n", "b = \"1\"\n"),
            ("a = \"\"\"\n", "b = \"1\"\n"),
            ("a = \"1\"\n\n", "b = \"1\"\n"),
            ("\"quoted\" = \"1\"\n", "b = \"1\"\n"),
            ("a = \"1\"\na = \"2\"\n", "b = \"1\"\n"),
            ("a = { version = \"1\"\n", "b = \"1\"\n"),
            ("a = \"]\" }\n", "b = \"1\"\n"),
        ] {
            let text = marked(ours, "", theirs);
            assert_eq!(resolved(&text), text, "{ours:?}");
        }
    }

    #[test]
    fn a_key_already_elsewhere_in_the_table_stays_a_conflict() {
        let text = format!(
            "[dependencies]\nb = \"1\"\n{OURS}\na = \"1\"\n{BASE}\n{THEIRS}\nb = \"1\"\n{END}\n\
             [features]\nc = []\n"
        );
        assert_eq!(resolved(&text), text);
        let text = text.replacen(
            "[dependencies]\nb = \"1\"\n",
            "[other]\nb = \"1\"\n[dependencies]\n",
            1,
        );
        let elsewhere = resolved(&text);
        assert!(!elsewhere.contains(OURS), "{elsewhere}");
    }

    #[test]
    fn rust_modules_merge_by_name_in_rustfmts_order() {
        let text = format!(
            "pub mod scopes;\n{OURS}\npub mod store;\n{BASE}\n{THEIRS}\npub mod server;\n\
             #[cfg(feature = \"otel\")]\npub mod telemetry;\n{END}\npub mod tools;\n"
        );
        assert_eq!(
            String::from_utf8(resolve(text.as_bytes(), Syntax::Rust)).unwrap(),
            "pub mod scopes;\npub mod server;\npub mod store;\n\
             #[cfg(feature = \"otel\")]\npub mod telemetry;\npub mod tools;\n"
        );
        let elsewhere = text.replace("pub mod tools;", "mod store;");
        assert_eq!(
            String::from_utf8(resolve(elsewhere.as_bytes(), Syntax::Rust)).unwrap(),
            elsewhere
        );
        let code = text.replace("pub mod store;", "fn store() {}");
        assert_eq!(
            String::from_utf8(resolve(code.as_bytes(), Syntax::Rust)).unwrap(),
            code
        );
    }

    fn resolved_as(syntax: Syntax, text: &str) -> String {
        String::from_utf8(resolve(text.as_bytes(), syntax)).unwrap()
    }

    #[test]
    fn env_variables_appended_on_both_sides_all_stay() {
        let text = format!(
            "A=1\n{OURS}\nLOG=info\n# Ours.\nDATABASE_URL=postgres://db\n{BASE}\nLOG=info\n\
             {THEIRS}\n# New.\nMETRICS=\nLOG=info,rmcp=warn\n{END}\n"
        );
        assert_eq!(
            resolved_as(Syntax::Env, &text),
            "A=1\n# New.\nMETRICS=\nLOG=info,rmcp=warn\n# Ours.\nDATABASE_URL=postgres://db\n"
        );
        let twice = text.replace("A=1", "DATABASE_URL=x");
        assert_eq!(resolved_as(Syntax::Env, &twice), twice);
    }

    #[test]
    fn yaml_entries_merge_within_their_mapping_only() {
        let text = format!(
            "metadata:\n  name: todo-mcp\ndata:\n  MCP_STATELESS: \"true\"\n{OURS}\n\
             \x20 DATABASE_URL: \"postgres://db\"\n{BASE}\n{THEIRS}\n  name: \"x\"\n{END}\n"
        );
        assert_eq!(
            resolved_as(Syntax::Yaml, &text),
            "metadata:\n  name: todo-mcp\ndata:\n  MCP_STATELESS: \"true\"\n\
             \x20 DATABASE_URL: \"postgres://db\"\n  name: \"x\"\n"
        );
        let same_mapping = text.replace("MCP_STATELESS", "name");
        assert_eq!(resolved_as(Syntax::Yaml, &same_mapping), same_mapping);
        for unsure in [
            text.replace("data:\n", "data: |\n"),
            text.replace("  name: \"x\"\n", "  name: \"x\"\n    b: 1\n"),
            format!("{text}    continued\n"),
            text.replace("  name: \"x\"", "name: \"x\""),
        ] {
            assert_eq!(resolved_as(Syntax::Yaml, &unsure), unsure);
        }
    }
}
