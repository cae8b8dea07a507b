//! Bearer token authentication for the MCP endpoint (OAuth 2.1 resource server).
//!
//! Every request is authenticated on its own: a session is never a credential.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE},
    },
    middleware::Next,
    response::Response,
};
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::{
    claims::{Claims, TokenError},
    config::Config,
    error::json_error,
    jwks::KeySet,
    limiter::{self, FailureLimiter},
    metrics,
    request::ClientAddr,
    scopes,
    token_cache::{Fingerprint, TokenCache, Verdict},
};

/// Largest clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

/// The token's payload as Scalekit writes it.
#[derive(Deserialize)]
struct TokenClaims {
    sub: String,
    /// Checked by jsonwebtoken; read here too so that only a string is
    /// accepted (jsonwebtoken alone also takes an array).
    #[serde(rename = "iss")]
    _issuer: String,
    /// Checked by jsonwebtoken; read here to bound the cache of checked tokens.
    exp: u64,
    client_id: Option<String>,
    oid: Option<String>,
    scope: Option<ScopeClaim>,
    scopes: Option<ScopeClaim>,
}

/// Issuers differ in how they write scopes, so both spellings are read.
#[derive(Deserialize)]
#[serde(untagged)]
enum ScopeClaim {
    SpaceSeparated(String),
    List(Vec<String>),
}

impl ScopeClaim {
    fn into_scopes(self) -> Vec<String> {
        match self {
            // RFC 6749 section 3.3: scopes are separated by the space
            // character only; a tab or a no-break space is part of a scope.
            Self::SpaceSeparated(text) => text
                .split(' ')
                .filter(|scope| !scope.is_empty())
                .map(str::to_owned)
                .collect(),
            Self::List(list) => list,
        }
    }
}

/// Validates access tokens against the signing keys and the configured `aud` and `iss`.
pub struct TokenValidator {
    keys: KeySet,
    validation: Validation,
    checked: TokenCache,
}

impl TokenValidator {
    pub fn new(config: &Config) -> Result<Self, reqwest::Error> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&config.audience);
        validation.set_issuer(&config.issuers());
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        Ok(Self {
            keys: KeySet::new(
                config.jwks_url.clone(),
                config.jwks_refresh_interval,
                config.jwks_max_age,
            )?,
            validation,
            checked: TokenCache::default(),
        })
    }

    /// The token's claims. A token this validator already checked is
    /// answered from [`TokenCache`] while the answer holds (until its `exp`,
    /// and while the keys stay the same): what a full check would answer.
    pub async fn validate(&self, token: &str) -> Result<Arc<Claims>, TokenError> {
        let generation = self.keys.generation();
        let key = Fingerprint::of(token);
        if let Some(verdict) = self.checked.get(&key, generation) {
            self.keys.refresh_if_stale();
            return match verdict {
                Verdict::Accepted(claims) => Ok(claims),
                Verdict::Refused(error) => Err(error),
            };
        }
        match self.verify(token).await {
            Ok((claims, expires_at)) => {
                let claims = Arc::new(claims);
                let verdict = Verdict::Accepted(Arc::clone(&claims));
                self.checked.insert(key, verdict, expires_at, generation);
                Ok(claims)
            }
            Err(error) => {
                self.checked
                    .insert(key, Verdict::Refused(error), 0, generation);
                Err(error)
            }
        }
    }

    /// The full check: header, signature, `aud`, `iss`, `exp`, `nbf`; the
    /// claims and the token's `exp`.
    async fn verify(&self, token: &str) -> Result<(Claims, u64), TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        // Checked before any key lookup, so `none` and HS* tokens never reach a verifier.
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::Algorithm);
        }
        // RFC 7515 section 4.1.11: `crit` names header extensions the
        // recipient must understand or refuse the token; this server
        // understands none.
        if header.crit.is_some() {
            return Err(TokenError::Critical);
        }
        let kid = header.kid.ok_or(TokenError::MissingKeyId)?;
        let key = self.keys.get(&kid).await.ok_or(TokenError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<TokenClaims>(token, &key, &self.validation)?.claims;
        let granted = claims
            .scope
            .into_iter()
            .chain(claims.scopes)
            .flat_map(ScopeClaim::into_scopes);
        let verified = Claims {
            sub: claims.sub,
            client_id: claims.client_id,
            organization_id: claims.oid,
            scopes: scopes::expand(granted),
        };
        Ok((verified, claims.exp))
    }
}

/// Builds the RFC 6750 `WWW-Authenticate` challenges, all pointing at the metadata.
pub struct Challenge {
    resource_metadata: String,
    missing_credentials: HeaderValue,
}

impl Challenge {
    pub fn new(config: &Config) -> Self {
        let resource_metadata = config.metadata_url();
        let scope = scopes::supported().collect::<Vec<_>>().join(" ");
        let mut missing = format!(r#"Bearer resource_metadata="{resource_metadata}""#);
        if !scope.is_empty() {
            missing.push_str(&format!(r#", scope="{scope}""#));
        }
        Self {
            missing_credentials: header_value(missing),
            resource_metadata,
        }
    }

    /// 401 without an `error` attribute (RFC 6750 section 3.1): the client should just log in.
    pub fn missing_credentials(&self) -> Response {
        let mut response = json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "Authentication required: send an OAuth access token as a Bearer token",
        );
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, self.missing_credentials.clone());
        response
    }

    pub fn invalid_token(&self, error: TokenError) -> Response {
        let description = error.description();
        let mut response = json_error(StatusCode::UNAUTHORIZED, "invalid_token", description);
        let challenge = format!(
            r#"Bearer error="invalid_token", error_description="{description}", resource_metadata="{}""#,
            self.resource_metadata
        );
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, header_value(challenge));
        response
    }

    /// 403 naming every scope the operation needs, so the client can step up.
    pub fn insufficient_scope(&self, required: &[&str], description: &str) -> Response {
        let mut response = json_error(StatusCode::FORBIDDEN, "insufficient_scope", description);
        let challenge = format!(
            r#"Bearer error="insufficient_scope", scope="{}", resource_metadata="{}", error_description="{description}""#,
            required.join(" "),
            self.resource_metadata
        );
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, header_value(challenge));
        response
    }
}

/// Every part is a URL, a scope token or a fixed description, so this only guards against misuse.
fn header_value(value: String) -> HeaderValue {
    HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

/// State of the bearer middleware.
pub struct Auth {
    validator: TokenValidator,
    challenge: Arc<Challenge>,
    failures: FailureLimiter,
}

impl Auth {
    pub fn new(config: &Config, challenge: Arc<Challenge>) -> Result<Self, reqwest::Error> {
        Ok(Self {
            validator: TokenValidator::new(config)?,
            challenge,
            failures: FailureLimiter::new(config.auth_failures_per_minute, limiter::MAX_NETWORKS),
        })
    }

    /// The signing keys, for readiness.
    pub fn keys(&self) -> &KeySet {
        &self.validator.keys
    }
}

/// Middleware: a valid Bearer token or a 401 challenge. On success the request
/// carries `Arc<Claims>` and no longer carries the token.
pub async fn require_bearer(
    State(auth): State<Arc<Auth>>,
    mut request: Request,
    next: Next,
) -> Response {
    let ip = request
        .extensions()
        .get::<ClientAddr>()
        .map(|ClientAddr(address)| *address);
    let Some(token) = bearer_token(request.headers()) else {
        tracing::info!(
            ?ip,
            status = 401,
            reason = "no bearer token",
            "request refused"
        );
        metrics::auth_refusal("missing_token");
        return auth.challenge.missing_credentials();
    };
    // The limiter never refuses a valid token: every token is checked, and
    // the limiter only decides how an invalid one is answered, so one client
    // behind a shared address cannot lock the others out. Checking stays
    // cheap for forged ones (a header parse and one RS256 verification; an
    // unknown `kid` refetches the keys at most once per interval).
    let error = match auth.validator.validate(token).await {
        Ok(claims) => {
            request.headers_mut().remove(AUTHORIZATION);
            request.extensions_mut().insert(claims);
            return next.run(request).await;
        }
        Err(error) => error,
    };
    // Only forgeries count. A correctly signed token that expired or is for
    // another audience always gets the 401 that makes its client refresh,
    // whoever else shares its address.
    let limited = !error.is_signed() && ip.is_some_and(|ip| auth.failures.fail(ip));
    if limited {
        metrics::auth_refusal("rate_limited");
        tracing::warn!(
            ?ip,
            status = 429,
            reason = "too many invalid tokens",
            "request refused"
        );
        return too_many_invalid_tokens();
    }
    metrics::auth_refusal("invalid_token");
    tracing::warn!(
        ?ip,
        status = 401,
        reason = error.description(),
        "request refused"
    );
    auth.challenge.invalid_token(error)
}

fn too_many_invalid_tokens() -> Response {
    let mut response = json_error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "Too many invalid access tokens; try again later",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(limiter::WINDOW.as_secs()));
    response
}

/// The token of an `Authorization: Bearer <token>` header; `None` for no or another scheme.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
