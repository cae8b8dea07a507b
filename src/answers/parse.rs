//! Reading an answers file: YAML into [`Answers`] in one pass that also
//! collects every unknown key, so a file with several misspelt keys gets them
//! all reported at once (serde alone stops at the first).

use serde::Deserialize;
use serde::de::{self, Visitor};

use super::{Answers, ArgumentAnswer, Problems, ScalekitAnswers, ScopeAnswer, ToolAnswer};
use crate::error::Error;

impl Answers {
    /// Parses an answers file. `source` names it in error messages. Unknown
    /// keys are all reported together; a syntax or type error is reported
    /// with its line and column.
    pub fn from_yaml(text: &str, source: &str) -> Result<Answers, Error> {
        if text.trim().is_empty() {
            return Ok(Answers::default());
        }
        let mut unknown: Vec<Vec<Segment>> = Vec::new();
        let deserializer = serde_yaml::Deserializer::from_str(text);
        let mut record = |path: serde_ignored::Path<'_>| {
            let mut segments = Vec::new();
            segments_of(&path, &mut segments);
            unknown.push(segments);
        };
        let tracked = serde_ignored::Deserializer::new(deserializer, &mut record);
        let parsed: Result<Answers, _> = serde_path_to_error::deserialize(tracked);
        // Unknown keys come first: a type error found after one is often its
        // consequence (a key at the wrong level).
        if !unknown.is_empty() {
            let mut problems = Problems::default();
            for path in &unknown {
                let (key, parent) = path.split_last().expect("an ignored key has a path");
                problems.push(
                    format_path(path),
                    format!(
                        "unknown key `{}`; allowed here: {}",
                        key.name(),
                        allowed_keys(parent).join(", ")
                    ),
                );
            }
            return Err(Error::Invalid(problems));
        }
        parsed.map_err(|error| {
            let path = error.path().to_string();
            syntax_error(source, error.into_inner(), &path)
        })
    }
}

/// A YAML syntax or type error, with its location and field path.
fn syntax_error(source: &str, error: serde_yaml::Error, path: &str) -> Error {
    let location = error
        .location()
        .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
        .unwrap_or_default();
    let message = strip_location(&error.to_string());
    Error::Input(
        if path == "." || path.is_empty() || message.starts_with(&format!("{path}: ")) {
            anyhow::anyhow!("{source}{location}: {message}")
        } else {
            anyhow::anyhow!("{source}{location}: {path}: {message}")
        },
    )
}

/// serde_yaml appends " at line L column C"; the location is reported
/// separately, so it is removed from the message.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Segment {
    fn name(&self) -> String {
        match self {
            Segment::Key(key) => key.clone(),
            Segment::Index(index) => index.to_string(),
        }
    }
}

fn segments_of(path: &serde_ignored::Path<'_>, out: &mut Vec<Segment>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            segments_of(parent, out);
            out.push(Segment::Index(*index));
        }
        Path::Map { parent, key } => {
            segments_of(parent, out);
            out.push(Segment::Key(key.clone()));
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => {
            segments_of(parent, out);
        }
    }
}

/// `tools[1].arguments[0].kind`, as problems name fields.
fn format_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) if out.is_empty() => out.push_str(key),
            Segment::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// The keys the mapping at `parent` may hold, as serde's derive declares
/// them for the type found there.
fn allowed_keys(parent: &[Segment]) -> &'static [&'static str] {
    let keys: Vec<&str> = parent
        .iter()
        .filter_map(|segment| match segment {
            Segment::Key(key) => Some(key.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    match keys.as_slice() {
        [] => fields_of::<Answers>(),
        ["scalekit"] => fields_of::<ScalekitAnswers>(),
        ["scopes"] => fields_of::<ScopeAnswer>(),
        ["tools"] => fields_of::<ToolAnswer>(),
        ["tools", "arguments"] => fields_of::<ArgumentAnswer>(),
        _ => &[],
    }
}

/// The field names `#[derive(Deserialize)]` gave `T`: the derive hands them
/// to `deserialize_struct`, where this deserializer takes them and stops.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct FieldNames<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for FieldNames<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("field names taken"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_come_from_the_serde_derive() {
        assert_eq!(
            fields_of::<ArgumentAnswer>(),
            ["name", "type", "description", "required"]
        );
        assert!(fields_of::<Answers>().contains(&"resource_documentation"));
    }

    #[test]
    fn every_unknown_key_is_found_in_one_pass_with_its_path() {
        let text = "nme: x\nscalekit: {env: y}\ntools:\n  - name: t\n    scopes: []\n    \
                    arguments: [{name: a, type: string, kind: z}]\n";
        let Err(Error::Invalid(problems)) = Answers::from_yaml(text, "test") else {
            panic!("unknown keys must be refused");
        };
        let paths: Vec<&str> = problems.0.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["nme", "scalekit.env", "tools[0].arguments[0].kind"]);
        assert!(
            problems.0[2]
                .message
                .ends_with("allowed here: name, type, description, required")
        );
    }
}
