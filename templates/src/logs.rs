//! Logs: text for a person at a terminal, JSON for a log collector, one line
//! per event. Every line of a request carries its `request_id` (in JSON,
//! under `span`). Values a client controls are recorded as strings, which
//! both formats quote and escape, so no request can forge a line.

use tracing::Subscriber;
use tracing_subscriber::{EnvFilter, Layer, Registry, fmt::MakeWriter, layer::SubscriberExt as _};

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
            .with_writer(writer)
            .with_ansi(ansi)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
    };
    let layers: Vec<ExtraLayer> = std::iter::once(lines).chain(extra).collect();
    Box::new(tracing_subscriber::registry().with(layers.with_filter(filter)))
}
