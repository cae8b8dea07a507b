//! Logs: text for a person at a terminal, JSON for a log collector, one line
//! per event. Every line of a request carries its `request_id` (in JSON,
//! under `span`).
//!
//! No request can forge or corrupt a line, whoever writes it. In text, every
//! field value and message is escaped here (libraries write client values as
//! they are: rmcp logs a JSON-RPC `id` with `%id`), so a line break, an
//! escape sequence or a NUL from a client is written as `\n`, `\u{1b}` or
//! `\u{0}`. JSON escapes them itself, and the few it leaves (C1 controls,
//! Unicode's line separators) are escaped on their way out.

use std::{
    fmt::{self, Write as _},
    io,
};

use tracing::{Subscriber, field::Field};
use tracing_subscriber::{
    EnvFilter, Layer, Registry,
    field::{MakeVisitor, Visit, VisitFmt, VisitOutput},
    fmt::{
        MakeWriter,
        format::{DefaultFields, DefaultVisitor, Writer},
    },
    layer::SubscriberExt as _,
};

/// `MCP_LOG_FORMAT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// The format `MCP_LOG_FORMAT` names; unset, JSON unless the output is a
    /// terminal.
    pub fn from_env(value: Option<&str>, terminal: bool) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") if terminal => Ok(Self::Text),
            None | Some("") => Ok(Self::Json),
            Some("text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            Some(other) => Err(format!("MCP_LOG_FORMAT: {other:?} is not text or json")),
        }
    }
}

/// A layer besides the log lines: the OpenTelemetry one, with `otel`.
pub type ExtraLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// The subscriber `main` installs; tests build the same one over a buffer.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
    ansi: bool,
    extra: Option<ExtraLayer>,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let lines: ExtraLayer = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .fmt_fields(EscapedFields)
            .with_writer(writer)
            .with_ansi(ansi)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(EscapeJson(writer))
            .boxed(),
    };
    let layers: Vec<ExtraLayer> = std::iter::once(lines).chain(extra).collect();
    Box::new(tracing_subscriber::registry().with(layers.with_filter(filter)))
}

/// Text lines' fields (events' and spans'), formatted as tracing-subscriber
/// does, with every value escaped.
struct EscapedFields;

impl<'writer> MakeVisitor<Writer<'writer>> for EscapedFields {
    type Visitor = Escaping<DefaultVisitor<'writer>>;

    fn make_visitor(&self, writer: Writer<'writer>) -> Self::Visitor {
        Escaping(DefaultFields::new().make_visitor(writer))
    }
}

/// Hands each value on to the visitor it wraps, escaped.
struct Escaping<V>(V);

impl<V: Visit> Visit for Escaping<V> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.record_debug(field, &Escaped(value));
    }

    /// As tracing-subscriber writes a string: a message as it is, another
    /// field quoted; both through [`Escaped`].
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }
}

impl<V: VisitOutput<fmt::Result>> VisitOutput<fmt::Result> for Escaping<V> {
    fn finish(self) -> fmt::Result {
        self.0.finish()
    }
}

impl<V: VisitFmt> VisitFmt for Escaping<V> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        self.0.writer()
    }
}

/// A value written with its control characters (line breaks, escape, NUL,
/// C1) and Unicode line separators escaped.
struct Escaped<'a>(&'a dyn fmt::Debug);

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(EscapeControls(f), "{:?}", self.0)
    }
}

struct EscapeControls<'a, 'f>(&'a mut fmt::Formatter<'f>);

impl fmt::Write for EscapeControls<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for c in text.chars() {
            if needs_escape(c) {
                write!(self.0, "{}", c.escape_default())?;
            } else {
                self.0.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// JSON lines on their way out. serde_json escapes what JSON requires, and
/// leaves C1 controls, DEL and Unicode's line separators raw inside strings,
/// where a terminal or a line splitter may still act on them; `\uXXXX` says
/// the same in JSON. The only raw line break left ends the line.
struct EscapeJson<W>(W);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for EscapeJson<W> {
    type Writer = EscapeJson<W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapeJson(self.0.make_writer())
    }
}

impl<W: io::Write> io::Write for EscapeJson<W> {
    /// tracing-subscriber writes each line whole.
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let escape = |c: char| c != '\n' && needs_escape(c);
        match std::str::from_utf8(line) {
            Ok(text) if text.contains(escape) => {
                let mut escaped = String::with_capacity(text.len() + 16);
                for c in text.chars() {
                    if escape(c) {
                        let _ = write!(escaped, "\\u{:04x}", u32::from(c));
                    } else {
                        escaped.push(c);
                    }
                }
                self.0.write_all(escaped.as_bytes())?;
            }
            _ => self.0.write_all(line)?,
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}
