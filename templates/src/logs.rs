//! Logs: text for a person at a terminal, JSON for a log collector, one line
//! per event. Every line of a request carries its `request_id` (in JSON,
//! under `span`). Values a client controls are recorded as strings, which
//! both formats quote and escape, so no request can forge a line.

use tracing::Subscriber;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

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

/// The subscriber `main` installs; tests build the same one over a buffer.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
    ansi: bool,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}
