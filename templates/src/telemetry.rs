//! Traces over OTLP, with the `otel` cargo feature: a span per request and
//! per tool call, continuing an incoming W3C trace context (the
//! `traceparent` header, or `_meta.traceparent` of the MCP request).
//! Configured by the standard `OTEL_*` variables (endpoint, headers,
//! timeout, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`); off unless an
//! OTLP endpoint is set. Spans carry the tool, `client_id` and outcome, never
//! a token.

use axum::http::HeaderMap;
use opentelemetry::{
    propagation::{Extractor, TextMapPropagator as _},
    trace::{TraceContextExt as _, TracerProvider as _},
};
use opentelemetry_otlp::{SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use serde_json::{Map, Value};
use tracing::{Span, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{Layer, registry::LookupSpan};

/// The tracer provider, kept to send the last spans at shutdown.
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl Tracing {
    /// From the `OTEL_*` variables; `None` when no OTLP endpoint is set.
    pub fn from_env() -> Result<Option<Self>, String> {
        let configured = [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()));
        if !configured {
            return Ok(None);
        }
        // The exporter's HTTP client needs the TLS provider.
        crate::crypto::install();
        let exporter = SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|error| format!("OTEL_EXPORTER_OTLP_ENDPOINT: {error}"))?;
        Ok(Some(Self::with_exporter(exporter)))
    }

    /// Exporting to the OTLP/HTTP traces URL `endpoint`, whatever the
    /// environment says (for tests).
    pub fn to_endpoint(endpoint: &str) -> Result<Self, String> {
        crate::crypto::install();
        let exporter = SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .build()
            .map_err(|error| format!("{endpoint}: {error}"))?;
        Ok(Self::with_exporter(exporter))
    }

    fn with_exporter(exporter: SpanExporter) -> Self {
        let mut resource = Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name(env!("CARGO_PKG_NAME"));
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        Self { provider }
    }

    /// The layer that turns the server's spans into OpenTelemetry spans.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer(env!("CARGO_PKG_NAME")))
    }

    /// Sends the spans still buffered, and stops exporting.
    pub fn shutdown(&self) {
        let _ = self.provider.shutdown();
    }
}

/// Makes `span` continue the trace context in `carrier`, when it holds a
/// valid one.
pub fn continue_trace(span: &Span, carrier: &dyn Extractor) {
    let context = TraceContextPropagator::new().extract(carrier);
    if context.span().span_context().is_valid() {
        let _ = span.set_parent(context);
    }
}

/// An HTTP request's headers, as a trace context carrier.
pub struct Headers<'a>(pub &'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// An MCP request's `_meta`, as a trace context carrier.
pub struct Meta<'a>(pub &'a Map<String, Value>);

impl Extractor for Meta<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}
