//! OAuth 2.0 Protected Resource Metadata (RFC 9728): how clients find the authorization server.

use axum::{
    Router,
    body::Bytes,
    http::{Method, header::CONTENT_TYPE},
    routing::get,
};
use serde::Serialize;
use tower_http::cors::{Any, CorsLayer};

use crate::{config::Config, scopes};

#[derive(Serialize)]
struct ProtectedResourceMetadata<'a> {
    resource: &'a str,
    authorization_servers: [String; 1],
    bearer_methods_supported: [&'a str; 1],
    scopes_supported: Vec<&'a str>,
    resource_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<&'a str>,
}

/// The metadata routes: public, readable from any browser origin.
pub fn routes(config: &Config) -> Router {
    let document = ProtectedResourceMetadata {
        resource: &config.resource,
        authorization_servers: [config.authorization_server()],
        bearer_methods_supported: ["header"],
        scopes_supported: scopes::supported().collect(),
        resource_name: &config.resource_name,
        resource_documentation: config.resource_documentation.as_deref(),
    };
    // Rendered once: the document never changes while the server runs.
    let body = Bytes::from(serde_json::to_vec(&document).expect("metadata serializes"));
    let handler = get(move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    });

    let router = config
        .metadata_paths()
        .iter()
        .fold(Router::new(), |router, path| {
            router.route(path, handler.clone())
        });
    router.layer(
        CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET])
            .allow_headers(Any),
    )
}
