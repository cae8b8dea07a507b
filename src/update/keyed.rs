//! Line-merge conflicts between side-by-side entries that each have a key,
//! resolved key by key where that is certain. When the owner adds a
//! dependency or a module next to one the templates add or change, the line
//! merge conflicts though the two touch different keys; this merges such a
//! hunk by key, as `cargo add` or a hand edit would have combined them.
//!
//! The entries are a TOML table's one-line `key = value` lines, and a Rust
//! file's `mod name;` declarations, each with the comment (and, in Rust,
//! attribute) lines above it. A hunk is resolved only when every line of all
//! three sides belongs to such an entry, no key repeats, no key was changed
//! differently on both sides, and no merged key appears elsewhere in its
//! table or file. Anything else keeps its conflict markers.

/// diffy's diff3 marker lines, in the order a hunk holds them.
const OURS: &str = "<<<<<<< ours";
const BASE: &str = "||||||| original";
const THEIRS: &str = "=======";
const END: &str = ">>>>>>> theirs";

/// The kinds of file whose entries this reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `key = value` lines of a TOML table.
    Toml,
    /// `mod name;` declarations, kept in rustfmt's sorted order.
    Rust,
}

impl Syntax {
    /// The syntax of the file at `path`, if it is one this reads.
    pub fn of(path: &std::path::Path) -> Option<Syntax> {
        match path.extension()?.to_str()? {
            "toml" => Some(Syntax::Toml),
            "rs" => Some(Syntax::Rust),
            _ => None,
        }
    }

    /// The key of an entry's own line, or `None` when `line` is not one.
    fn key_of(self, line: &str) -> Option<String> {
        match self {
            Syntax::Toml => toml_key(line),
            Syntax::Rust => rust_module(line),
        }
    }

    /// A line that belongs to the entry below it: blank, a comment, or in
    /// Rust an outer attribute on one line.
    fn is_trivia(self, line: &str) -> bool {
        let line = line.trim();
        match self {
            Syntax::Toml => line.is_empty() || line.starts_with('#'),
            Syntax::Rust => {
                line.is_empty()
                    || line.starts_with("//")
                    || (line.starts_with("#[") && line.ends_with(']'))
            }
        }
    }

    /// The keys that share a scope with the hunk at `lines[start..end]`,
    /// outside it: its TOML table, or the whole Rust file.
    fn keys_around(self, lines: &[&str], start: usize, end: usize) -> Vec<String> {
        let (first, last) = match self {
            Syntax::Toml => (
                (0..start)
                    .rev()
                    .find(|&i| is_header(lines[i]))
                    .map_or(0, |i| i + 1),
                (end..lines.len())
                    .find(|&i| is_header(lines[i]))
                    .unwrap_or(lines.len()),
            ),
            Syntax::Rust => (0, lines.len()),
        };
        lines[first..start]
            .iter()
            .chain(&lines[end..last])
            .filter_map(|line| self.key_of(line))
            .collect()
    }
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
            let around = syntax.keys_around(&lines, i, hunk.end);
            merged
                .iter()
                .filter_map(|line| syntax.key_of(line))
                .all(|key| !around.contains(&key))
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
    if syntax == Syntax::Rust {
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

/// A `[table]` or `[[array]]` header line.
fn is_header(line: &str) -> bool {
    let line = line.split('#').next().unwrap_or_default().trim();
    line.starts_with('[') && line.ends_with(']')
}

/// The key of a one-line TOML entry (bare keys, dotted or not, spaces around
/// the dots removed), or `None` when the line is not one.
fn toml_key(line: &str) -> Option<String> {
    let (key, value) = line.split_once('=')?;
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    let bare = |part: &&str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    (parts.iter().all(bare) && one_line_value(value)).then(|| parts.join("."))
}

/// The name a `mod name;` line declares, with any visibility, or `None` when
/// the line is not one.
fn rust_module(line: &str) -> Option<String> {
    let mut rest = line.trim().strip_suffix(';')?.trim_end();
    if let Some(after) = rest.strip_prefix("pub") {
        rest = match after.strip_prefix('(') {
            Some(scope) => scope.split_once(')')?.1,
            None => after,
        };
        rest = rest.strip_prefix(char::is_whitespace)?.trim_start();
    }
    let name = rest.strip_prefix("mod")?;
    let name = name.strip_prefix(char::is_whitespace)?.trim();
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then(|| name.to_string())
}

/// Whether `value` is a whole value on its own line: strings closed, brackets
/// and braces balanced, no multi-line string.
fn one_line_value(value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || value.starts_with("\"\"\"") || value.starts_with("'''") {
        return false;
    }
    let mut depth: i32 = 0;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => {
                        chars.next();
                    }
                    Some(_) => {}
                    None => return false,
                }
            },
            // A literal string has no escapes: the next quote closes it.
            '\'' if !chars.by_ref().any(|c| c == '\'') => return false,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            '#' => break,
            _ => {}
        }
    }
    depth == 0
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
    fn values_are_read_to_their_end() {
        assert!(one_line_value(
            " { version = \"1\", features = [\"a\", \"b]\"] } # [x"
        ));
        assert!(one_line_value(" 'C:\\path' "));
        assert!(one_line_value(" \"say \\\"hi\\\"\""));
        assert!(!one_line_value(" [\"a\","));
        assert!(!one_line_value(" \"open"));
        assert!(!one_line_value(" '''"));
        assert!(!one_line_value(" ] ["));
        assert_eq!(toml_key("a . b-c = 1").as_deref(), Some("a.b-c"));
        assert_eq!(toml_key("a b = 1"), None);
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

    #[test]
    fn module_lines_are_read_with_any_visibility() {
        for (line, name) in [
            ("mod a;", Some("a")),
            ("  pub mod b_2 ;", Some("b_2")),
            ("pub(crate) mod c;", Some("c")),
            ("pub(in crate::x) mod d;", Some("d")),
            ("pubmod e;", None),
            ("module f;", None),
            ("mod g {", None),
            ("mod 9h;", None),
            ("use a::b;", None),
        ] {
            assert_eq!(rust_module(line).as_deref(), name, "{line}");
        }
    }
}
