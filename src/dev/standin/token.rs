//! The token endpoint (RFC 6749 section 3.2): codes and rotating refresh
//! tokens for RS256 access tokens with Scalekit's claims.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::authorize::pkce_shaped;
use super::register::find_client;
use super::{Params, Reply, Req, Shared};
use crate::dev::keys::{SigningKey, random_token, sha256_b64};
use crate::dev::state::{Client, Grant};

/// Who a token is for: what `iss` and `aud` say.
#[derive(Debug, Clone)]
pub struct Audience<'a> {
    pub issuer: &'a str,
    pub resource_id: &'a str,
    pub resource: &'a str,
}

/// An access token for `grant`, valid for `ttl` seconds from now.
pub fn access_token(
    key: &SigningKey,
    audience: &Audience<'_>,
    grant: &Grant,
    ttl: u64,
) -> anyhow::Result<String> {
    let now = crate::dev::now();
    key.sign(&json!({
        "iss": audience.issuer,
        "sub": grant.sub,
        "aud": [audience.resource_id, audience.resource],
        "client_id": grant.client_id,
        "scope": grant.scopes.join(" "),
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": random_token(),
    }))
}

/// `POST /oauth/token`.
pub fn exchange(shared: &Shared, req: &Req) -> Reply {
    let form = match req.form() {
        Ok(form) => form,
        Err(reply) => return reply,
    };
    let client = match authenticate(shared, req, &form) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    if let Some(other) = form
        .all("resource")
        .find(|r| *r != shared.config().resource)
    {
        return error(
            "invalid_target",
            &format!(
                "resource `{other}` is not this server's resource: {}",
                shared.config().resource
            ),
        );
    }
    let granted = match form.one("grant_type") {
        Ok(Some("authorization_code")) => code_grant(shared, &client, &form),
        Ok(Some("refresh_token")) => refresh_grant(shared, &client, &form),
        Ok(Some(other)) => Err(error(
            "unsupported_grant_type",
            &format!("grant_type `{other}` is not supported: authorization_code or refresh_token"),
        )),
        Ok(None) => Err(error("invalid_request", "`grant_type` is missing")),
        Err(why) => Err(error("invalid_request", &why)),
    };
    let (access, refresh) = match granted {
        Ok(granted) => granted,
        Err(reply) => return reply,
    };
    let audience = Audience {
        issuer: &shared.issuer(),
        resource_id: &shared.config().resource_id,
        resource: &shared.config().resource,
    };
    let ttl = shared.config().token_ttl;
    match access_token(shared.key(), &audience, &access, ttl) {
        Ok(token) => Reply::json(
            200,
            &json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": ttl,
                "scope": access.scopes.join(" "),
                "refresh_token": refresh,
            }),
        )
        .with("Pragma", "no-cache"),
        Err(why) => Reply::oauth_error(500, "server_error", &format!("{why:#}")),
    }
}

/// The client, authenticated as it registered: by `client_id` alone for a
/// public client, with its secret (HTTP Basic or the form) otherwise.
fn authenticate(shared: &Shared, req: &Req, form: &Params) -> Result<Client, Reply> {
    let invalid_client = |why: &str| Reply::oauth_error(401, "invalid_client", why);
    let basic = match req.header("authorization") {
        Some(value) => Some(basic_credentials(value).ok_or_else(|| {
            invalid_client("the Authorization header is not HTTP Basic client credentials")
                .with("WWW-Authenticate", "Basic")
        })?),
        None => None,
    };
    let form_id = form
        .one("client_id")
        .map_err(|why| error("invalid_request", &why))?;
    let form_secret = form
        .one("client_secret")
        .map_err(|why| error("invalid_request", &why))?;
    let (id, secret) = match (basic, form_id, form_secret) {
        (Some(_), _, Some(_)) => {
            return Err(error(
                "invalid_request",
                "the client authenticated twice (Basic and client_secret)",
            ));
        }
        (Some((id, _)), Some(form_id), _) if id != form_id => {
            return Err(error(
                "invalid_request",
                "client_id differs from the Basic credentials",
            ));
        }
        (Some((id, secret)), _, _) => (id, Some(secret)),
        (None, Some(id), secret) => (id.to_owned(), secret.map(str::to_owned)),
        (None, None, _) => return Err(error("invalid_request", "`client_id` is missing")),
    };
    let client = find_client(shared, &id).map_err(|why| invalid_client(&why))?;
    match (&client.secret_sha256, secret) {
        (None, None) => Ok(client),
        (None, Some(_)) => Err(invalid_client("this public client has no secret")),
        (Some(_), None) => Err(invalid_client(
            "this client must authenticate with its secret",
        )),
        // Digests are compared: their timing tells nothing about the secret.
        (Some(expected), Some(secret)) if *expected == sha256_b64(&secret) => Ok(client),
        (Some(_), Some(_)) => Err(invalid_client("wrong client secret")),
    }
}

/// `Basic base64(id:secret)`, each part form-decoded (RFC 6749 2.3.1).
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let decode = |part: &str| {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

type Granted = Result<(Grant, String), Reply>;

/// `authorization_code`: once, for its client, redirect URI and verifier.
fn code_grant(shared: &Shared, client: &Client, form: &Params) -> Granted {
    let code = form
        .required("code")
        .map_err(|why| error("invalid_request", &why))?;
    let verifier = form
        .required("code_verifier")
        .map_err(|why| error("invalid_request", &why))?;
    let redirect_uri = form
        .one("redirect_uri")
        .map_err(|why| error("invalid_request", &why))?;
    let mut live = shared.live();
    let Some(issued) = live.codes.remove(code) else {
        return Err(error(
            "invalid_grant",
            "the code is unknown or was already used",
        ));
    };
    if issued.expired() {
        return Err(error("invalid_grant", "the code expired"));
    }
    if issued.grant.client_id != client.client_id {
        return Err(error(
            "invalid_grant",
            "the code was issued to another client",
        ));
    }
    if redirect_uri.is_some_and(|uri| uri != issued.redirect_uri) {
        return Err(error(
            "invalid_grant",
            "redirect_uri differs from the authorization request's",
        ));
    }
    if !pkce_shaped(verifier) || sha256_b64(verifier) != issued.challenge {
        return Err(error(
            "invalid_grant",
            "the code_verifier does not match the code_challenge",
        ));
    }
    let refresh = remember(shared, &mut live, issued.grant.clone())?;
    Ok((issued.grant, refresh))
}

/// `refresh_token`: rotated, each works once; `scope` may narrow.
fn refresh_grant(shared: &Shared, client: &Client, form: &Params) -> Granted {
    let token = form
        .required("refresh_token")
        .map_err(|why| error("invalid_request", &why))?;
    let scope = form
        .one("scope")
        .map_err(|why| error("invalid_request", &why))?;
    let mut live = shared.live();
    let Some(grant) = live.saved.refresh_tokens.remove(&sha256_b64(token)) else {
        return Err(error(
            "invalid_grant",
            "the refresh token is unknown or was already used",
        ));
    };
    if grant.client_id != client.client_id {
        let _ = shared.persist(&live);
        return Err(error(
            "invalid_grant",
            "the refresh token was issued to another client",
        ));
    }
    let mut access = grant.clone();
    if let Some(scope) = scope {
        let asked: Vec<String> = scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(extra) = asked.iter().find(|s| !grant.scopes.contains(s)) {
            live.saved.refresh_tokens.insert(sha256_b64(token), grant);
            return Err(error(
                "invalid_scope",
                &format!("scope `{extra}` was not granted to this refresh token"),
            ));
        }
        access.scopes = asked;
    }
    let refresh = remember(shared, &mut live, grant)?;
    Ok((access, refresh))
}

/// A new refresh token for `grant`, saved (as its digest) before it is sent.
fn remember(shared: &Shared, live: &mut super::Live, grant: Grant) -> Result<String, Reply> {
    let token = random_token();
    live.saved.refresh_tokens.insert(sha256_b64(&token), grant);
    shared
        .persist(live)
        .map_err(|why| Reply::oauth_error(500, "server_error", &format!("{why:#}")))?;
    Ok(token)
}

fn error(error: &str, description: &str) -> Reply {
    Reply::oauth_error(400, error, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("dev%5Fa:s%3Ac+d"));
        assert_eq!(
            basic_credentials(&header),
            Some(("dev_a".into(), "s:c d".into()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}
