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
/// limiter counts and the logs show. Canonical: an IPv4 client is an IPv4
/// address even when it came as `::ffff:a.b.c.d`.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

/// The proxies whose `X-Forwarded-For` / `Forwarded` headers are believed.
#[derive(Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

/// State of the [`context`] middleware.
pub struct RequestContext {
    proxies: TrustedProxies,
    mcp_path: String,
}

impl RequestContext {
    pub fn new(config: &Config) -> Self {
        Self {
            proxies: TrustedProxies::new(&config.trusted_proxies),
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
    pub fn new(networks: &[IpNet]) -> Self {
        Self(networks.iter().map(|&net| canonical_net(net)).collect())
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy.
    /// Then the forwarded addresses are read from the nearest (last) back,
    /// and the first one that is not a trusted proxy is the client; what an
    /// untrusted party wrote further left is never believed. When the proxy
    /// wrote both headers they must agree, and a nearest hop that is not an
    /// address (`for=unknown`, no `for=`) leaves the peer's address: a
    /// client never gets to pick what it is counted as.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded_for = header_values(headers, &FORWARDED_FOR);
        let forwarded = header_values(headers, &FORWARDED);
        let from_forwarded_for = (!forwarded_for.is_empty())
            .then(|| self.walk(peer, forwarded_for_hops(&forwarded_for)));
        let from_forwarded =
            (!forwarded.is_empty()).then(|| self.walk(peer, forwarded_hops(&forwarded)));
        match (from_forwarded_for, from_forwarded) {
            (Some(one), Some(other)) if one != other => peer,
            (Some(client), _) | (None, Some(client)) => client,
            (None, None) => peer,
        }
    }

    /// Walks `hops` from the nearest back to the first that is not a
    /// trusted proxy; stops at one that is not an address.
    fn walk(&self, peer: IpAddr, hops: Vec<Option<IpAddr>>) -> IpAddr {
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            let Some(hop) = hop else {
                break;
            };
            client = hop.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// `::ffff:10.0.0.0/104` is `10.0.0.0/8`: proxies are compared with
/// canonical addresses.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).unwrap_or(net),
            None => net,
        },
        net => net,
    }
}

/// Every value of the header `name`; one that is not text is read as empty,
/// a hop that is not an address.
fn header_values(headers: &HeaderMap, name: &HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|value| value.to_str().unwrap_or_default().to_owned())
        .collect()
}

/// The addresses of `X-Forwarded-For`, in order; `None` for one that is not
/// an address.
fn forwarded_for_hops(values: &[String]) -> Vec<Option<IpAddr>> {
    values
        .iter()
        .flat_map(|value| value.split(','))
        .map(|hop| parse_hop(hop.trim()))
        .collect()
}

/// The `for=` of each `Forwarded` element, in order; `None` for an element
/// without one, or whose `for=` is not an address.
fn forwarded_hops(values: &[String]) -> Vec<Option<IpAddr>> {
    values
        .iter()
        .flat_map(|value| value.split(','))
        .map(|element| {
            element
                .split(';')
                .find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_hop(value.trim().trim_matches('"')))
                })
                .flatten()
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

    fn trusting(networks: &[&str]) -> TrustedProxies {
        let networks: Vec<IpNet> = networks.iter().map(|net| net.parse().unwrap()).collect();
        TrustedProxies::new(&networks)
    }

    #[test]
    fn only_a_trusted_peer_is_believed() {
        let proxies = trusting(&["10.0.0.0/8"]);
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
        let proxies = trusting(&["10.0.0.0/8"]);
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
    fn a_nearest_forwarded_element_without_a_usable_for_leaves_the_peer() {
        let proxies = trusting(&["10.0.0.0/8"]);
        for nearest in ["proto=https", "for=unknown", "for=_hidden;proto=https"] {
            let forwarded = headers(&[("forwarded", &format!("for=203.0.113.9, {nearest}"))]);
            assert_eq!(
                proxies.client_address(ip("10.1.2.3"), &forwarded),
                ip("10.1.2.3"),
                "{nearest}"
            );
        }
        // Its own element, in a header of its own, likewise.
        let forwarded = headers(&[
            ("forwarded", "for=203.0.113.9"),
            ("forwarded", "by=10.0.0.1"),
        ]);
        assert_eq!(
            proxies.client_address(ip("10.1.2.3"), &forwarded),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn both_headers_must_agree_or_the_peer_is_the_client() {
        let proxies = trusting(&["10.0.0.0/8"]);
        // The proxy wrote `Forwarded`; the client wrote `X-Forwarded-For` to
        // choose its own bucket.
        let disagree = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=203.0.113.9"),
        ]);
        assert_eq!(
            proxies.client_address(ip("10.1.2.3"), &disagree),
            ip("10.1.2.3")
        );
        // A proxy that appends to both: they agree on the client.
        let agree = headers(&[
            ("x-forwarded-for", "198.51.100.1, 203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ]);
        assert_eq!(
            proxies.client_address(ip("10.1.2.3"), &agree),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn addresses_compare_in_canonical_form() {
        // A server on `[::]` sees an IPv4 proxy as `::ffff:127.0.0.1`.
        let proxies = trusting(&["127.0.0.1/32"]);
        let forwarded = headers(&[("x-forwarded-for", "::ffff:203.0.113.9")]);
        assert_eq!(
            proxies.client_address(ip("::ffff:127.0.0.1"), &forwarded),
            ip("203.0.113.9")
        );
        // Untrusted, the peer still comes out canonical.
        assert_eq!(
            proxies.client_address(ip("::ffff:198.51.100.7"), &forwarded),
            ip("198.51.100.7")
        );
        // A proxy network written IPv4-mapped is the IPv4 network.
        let mapped = trusting(&["::ffff:10.0.0.0/104"]);
        assert_eq!(
            mapped.client_address(ip("10.9.8.7"), &forwarded),
            ip("203.0.113.9")
        );
        // Between two trusted hops, an IPv4-mapped one is trusted too.
        let chain = headers(&[("x-forwarded-for", "203.0.113.9, ::ffff:127.0.0.1")]);
        assert_eq!(
            proxies.client_address(ip("127.0.0.1"), &chain),
            ip("203.0.113.9")
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
