use std::{io::IsTerminal, process::ExitCode};

use mcp_server::{
    app,
    config::Config,
    logs::{self, LogFormat},
    metrics, server,
};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
#[cfg(feature = "otel")]
use tracing_subscriber::Layer as _;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) => match EnvFilter::try_new(&directives) {
            Ok(filter) => filter,
            Err(error) => {
                eprintln!("error: RUST_LOG: {directives:?} is not a log filter ({error})");
                return ExitCode::FAILURE;
            }
        },
        // rmcp logs every stateless request's set-up and tear-down at info:
        // noise that costs a quarter of the throughput.
        Err(_) => EnvFilter::new("info,rmcp=warn"),
    };
    let terminal = std::io::stdout().is_terminal();
    let format =
        match LogFormat::from_env(std::env::var("MCP_LOG_FORMAT").ok().as_deref(), terminal) {
            Ok(format) => format,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
    #[cfg(feature = "otel")]
    let traces = match mcp_server::telemetry::Tracing::from_env() {
        Ok(traces) => traces,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    #[cfg(feature = "otel")]
    let extra = traces.as_ref().map(|traces| traces.layer().boxed());
    #[cfg(not(feature = "otel"))]
    let extra = None;
    // Colour only on a terminal, so log collectors get plain text.
    if tracing::subscriber::set_global_default(logs::subscriber(
        format,
        filter,
        std::io::stdout,
        terminal,
        extra,
    ))
    .is_err()
    {
        eprintln!("error: a logger was already installed");
        return ExitCode::FAILURE;
    }

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(addr) = config.metrics_addr {
        let registry = match metrics::install() {
            Ok(registry) => registry,
            Err(error) => {
                eprintln!("error: MCP_METRICS_ADDR: {error}");
                return ExitCode::FAILURE;
            }
        };
        let listener = match TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("error: MCP_METRICS_ADDR: cannot listen on {addr}: {error}");
                return ExitCode::FAILURE;
            }
        };
        tokio::spawn(metrics::serve(listener, registry));
    }
    let app = match app::build(&config) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(config.listen_addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "error: MCP_LISTEN_ADDR: cannot listen on {}: {error}",
                config.listen_addr
            );
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        listen = %config.listen_addr,
        mcp = %format!("{}{}", config.server_url.as_str().trim_end_matches('/'), config.mcp_path),
        metadata = %config.metadata_url(),
        stateless = config.stateless,
        metrics = ?config.metrics_addr,
        "MCP server ready"
    );
    let served = server::run(listener, app, shutdown_signal()).await;
    #[cfg(feature = "otel")]
    if let Some(traces) = traces {
        traces.shutdown();
    }
    if let Err(error) = served {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Completes on Ctrl-C or SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
