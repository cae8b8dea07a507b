//! Each request's context, set before anything else runs: its id (a
//! well-formed incoming `X-Request-Id`, else a new one), echoed in the
//! response and carried by every log line of the request, and the client's
//! address: the peer's, or what a trusted proxy says it forwarded.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;
use tracing::Instrument as _;

use crate::{config::Config, metrics};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// The request's id, in its extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The request's span, in its extensions: tool calls, which rmcp runs
/// outside the request's task, are its children.
#[derive(Clone, Debug)]
pub struct RequestSpan(pub tracing::Span);

/// The client's address, in the request's extensions: what the failed-auth
/// limiter counts and the logs show.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

/// The proxies whose `X-Forwarded-For` / `Forwarded` headers are believed.
#[derive(Debug, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

/// State of the [`context`] middleware.
pub struct RequestContext {
    proxies: TrustedProxies,
    mcp_path: String,
}

impl RequestContext {
    pub fn new(config: &Config) -> Self {
        Self {
            proxies: TrustedProxies(config.trusted_proxies.clone()),
            mcp_path: config.mcp_path.clone(),
        }
    }

    /// The `route` label of a request's metrics: one of a fixed few words.
    fn route(&self, path: &str) -> &'static str {
        match path {
            path if path == self.mcp_path => "mcp",
            "/healthz" => "healthz",
            "/readyz" => "readyz",
            path if path.starts_with("/.well-known/oauth-protected-resource") => "metadata",
            _ => "other",
        }
    }
}

/// Middleware, outermost: sets the request's id and client address, and
/// counts the request by route and status.
pub async fn context(
    State(context): State<Arc<RequestContext>>,
    mut request: Request,
    next: Next,
) -> Response {
    let route = context.route(request.uri().path());
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| well_formed(id))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let client = peer.map(|peer| context.proxies.client_address(peer, request.headers()));
    if let Some(client) = client {
        request.extensions_mut().insert(ClientAddr(client));
    }
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, client = ?client);
    #[cfg(feature = "otel")]
    crate::telemetry::continue_trace(&span, &crate::telemetry::Headers(request.headers()));
    request.extensions_mut().insert(RequestSpan(span.clone()));
    let mut response = next.run(request).instrument(span).await;
    metrics::http_request(route, response.status().as_u16());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// At most 128 visible ASCII characters: safe in a header and a log line.
fn well_formed(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|byte| byte.is_ascii_graphic())
}

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy.
    /// Then the forwarded addresses are read from the nearest (last) back,
    /// and the first one that is not a trusted proxy is the client; what an
    /// untrusted party wrote further left is never believed.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer;
        if !self.trusts(peer) {
            return client;
        }
        for hop in forwarded_hops(headers).iter().rev() {
            let Some(hop) = hop else {
                break;
            };
            client = *hop;
            if !self.trusts(*hop) {
                break;
            }
        }
        client
    }
}

/// The addresses in `X-Forwarded-For`, or else in `Forwarded` (`for=`), in
/// order; `None` for one that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &HeaderName| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|value| value.to_str().unwrap_or("\u{0}").to_owned())
            .collect()
    };
    let forwarded_for = values(&FORWARDED_FOR);
    if !forwarded_for.is_empty() {
        return forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .map(|hop| parse_hop(hop.trim()))
            .collect();
    }
    values(&FORWARDED)
        .iter()
        .flat_map(|value| value.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value.trim().trim_matches('"')))
            })
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(address) = hop.parse::<SocketAddr>() {
        return Some(address.ip());
    }
    hop.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_peer_is_believed() {
        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        let spoofed = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            proxies.client_address(ip("198.51.100.7"), &spoofed),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxies.client_address(ip("10.1.2.3"), &spoofed),
            ip("203.0.113.9")
        );
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_address(ip("10.1.2.3"), &spoofed),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        // The client wrote 1.1.1.1 itself; the proxies appended the rest.
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.5")]);
        assert_eq!(
            proxies.client_address(ip("10.1.2.3"), &chain),
            ip("203.0.113.9")
        );
        let forwarded = headers(&[(
            "forwarded",
            r#"for=192.0.2.60;proto=https, for="[2001:db8::1]:443""#,
        )]);
        assert_eq!(
            proxies.client_address(ip("10.1.2.3"), &forwarded),
            ip("2001:db8::1")
        );
        let garbage = headers(&[("x-forwarded-for", "not-an-address")]);
        assert_eq!(
            proxies.client_address(ip("10.1.2.3"), &garbage),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn request_ids_are_visible_ascii_of_at_most_128() {
        assert!(well_formed("abc-123_XYZ.~"));
        assert!(!well_formed(""));
        assert!(!well_formed("with space"));
        assert!(!well_formed("line\nbreak"));
        assert!(!well_formed(&"x".repeat(129)));
    }
}
