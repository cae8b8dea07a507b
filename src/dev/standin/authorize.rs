//! The authorization endpoint: the request's checks (RFC 6749 4.1, PKCE S256,
//! RFC 8707 `resource`), the consent page a person sees and the decision it
//! posts back, and the redirect carrying a code or an error with `iss`
//! (RFC 9207).

use std::time::{Duration, Instant};

use minijinja::{Environment, context};
use url::Url;

use super::register::{find_client, redirect_matches};
use super::{Live, Params, Reply, Req, Shared};
use crate::dev::keys::random_token;
use crate::dev::state::{Client, Grant};

/// A code lives this long (RFC 6749 4.1.2 recommends at most 10 minutes).
const CODE_LIFETIME: Duration = Duration::from_secs(120);
/// A consent page may be left open this long before its form is refused.
const FORM_LIFETIME: Duration = Duration::from_secs(600);
/// Open consent forms and unused codes kept at most, each.
const MAX_OUTSTANDING: usize = 1000;
/// The `sub` the consent page proposes and `--approve` uses.
pub const DEFAULT_USER: &str = "dev-user";

/// An issued, unused authorization code.
#[derive(Debug)]
pub struct Code {
    pub grant: Grant,
    pub redirect_uri: String,
    pub challenge: String,
    expires: Instant,
}

impl Code {
    pub fn expired(&self) -> bool {
        Instant::now() >= self.expires
    }
}

/// A consent page shown and not yet answered, keyed by its form token.
#[derive(Debug)]
pub struct Pending {
    client_id: String,
    back: Back,
    challenge: String,
    scopes: Vec<String>,
    expires: Instant,
}

/// Where the answer goes: the client's redirect URI, with its `state`.
#[derive(Debug, Clone)]
struct Back {
    redirect_uri: String,
    state: Option<String>,
    issuer: String,
}

impl Back {
    fn redirect(&self, pairs: &[(&str, &str)]) -> Reply {
        let Ok(mut url) = Url::parse(&self.redirect_uri) else {
            return page_error(400, "the redirect URI is not a URI");
        };
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name, value);
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &self.issuer);
        }
        Reply::redirect(url.into())
    }

    fn error(&self, error: &str, description: &str) -> Reply {
        self.redirect(&[("error", error), ("error_description", description)])
    }
}

/// `GET /oauth/authorize`.
pub fn request(shared: &Shared, params: &Params) -> Reply {
    // Until the client and its redirect URI are known, errors go on a page:
    // never redirect to an unchecked URI (RFC 6749 4.1.2.1).
    let (client, back) = match client_and_back(shared, params) {
        Ok(found) => found,
        Err(why) => return page_error(400, &why),
    };
    let checked = (|| -> Result<(String, Vec<String>), (&'static str, String)> {
        let invalid = |why: String| ("invalid_request", why);
        match params.one("response_type").map_err(invalid)? {
            Some("code") => {}
            Some(other) => {
                return Err((
                    "unsupported_response_type",
                    format!("response_type `{other}` is not supported: use code"),
                ));
            }
            None => return Err(invalid("`response_type` is missing".into())),
        }
        if params.one("code_challenge_method").map_err(invalid)? != Some("S256") {
            return Err(invalid(
                "PKCE is required with code_challenge_method=S256 (plain is not accepted)".into(),
            ));
        }
        let challenge = params.required("code_challenge").map_err(invalid)?;
        if !pkce_shaped(challenge) {
            return Err(invalid(
                "`code_challenge` must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~".into(),
            ));
        }
        let resource = &shared.config().resource;
        if let Some(other) = params.all("resource").find(|given| given != resource) {
            return Err((
                "invalid_target",
                format!("resource `{other}` is not this server's resource: {resource}"),
            ));
        }
        let scopes = requested_scopes(shared, params.one("scope").map_err(invalid)?)
            .map_err(|why| ("invalid_scope", why))?;
        Ok((challenge.to_owned(), scopes))
    })();
    let (challenge, scopes) = match checked {
        Ok(checked) => checked,
        Err((error, why)) => return back.error(error, &why),
    };
    let mut live = shared.live();
    if shared.config().approve {
        return issue(
            &mut live,
            &client.client_id,
            DEFAULT_USER,
            scopes,
            &back,
            challenge,
        );
    }
    let now = Instant::now();
    live.pending.retain(|_, pending| pending.expires > now);
    if live.pending.len() >= MAX_OUTSTANDING {
        return page_error(
            503,
            "too many sign-ins are waiting for consent; try again later",
        );
    }
    let form_token = random_token();
    let page = render(context! {
        client_name => client.name.clone().unwrap_or_else(|| client.client_id.clone()),
        client_id => &client.client_id,
        redirect_uri => &back.redirect_uri,
        resource => &shared.config().resource,
        scopes => &scopes,
        form_token => &form_token,
    });
    live.pending.insert(
        form_token,
        Pending {
            client_id: client.client_id,
            back,
            challenge,
            scopes,
            expires: now + FORM_LIFETIME,
        },
    );
    page_headers(Reply::html(200, page))
}

/// `POST /oauth/authorize`: the consent page's Approve or Deny.
pub fn decide(shared: &Shared, req: &Req) -> Reply {
    let own_origins = [
        shared.base().to_owned(),
        shared.base().replace("127.0.0.1", "localhost"),
    ];
    let cross_site = req
        .header("origin")
        .is_some_and(|origin| !own_origins.iter().any(|own| own == origin))
        || req.header("sec-fetch-site") == Some("cross-site");
    if cross_site {
        return page_error(403, "the consent form was posted from another site");
    }
    let form = match req.form() {
        Ok(form) => form,
        Err(_) => return page_error(400, "the consent form must be posted as a form"),
    };
    let token = match form.required("form_token") {
        Ok(token) => token,
        Err(_) => return page_error(400, "the consent form was sent without its form token"),
    };
    let mut live = shared.live();
    let Some(pending) = live.pending.remove(token) else {
        return page_error(
            400,
            "this consent form is unknown, expired or already answered; start the sign-in \
             again from your client",
        );
    };
    if pending.expires <= Instant::now() {
        return page_error(400, "this consent form expired; start the sign-in again");
    }
    match form.one("decision") {
        Ok(Some("deny")) => pending
            .back
            .error("access_denied", "the user denied the request"),
        Ok(Some("approve")) => {
            let mut granted = Vec::new();
            for scope in form.all("scope") {
                if !pending.scopes.iter().any(|asked| asked == scope) {
                    return page_error(400, &format!("scope `{scope}` was not requested"));
                }
                if !granted.iter().any(|g| g == scope) {
                    granted.push(scope.to_owned());
                }
            }
            let user = form.one("user_id").ok().flatten().unwrap_or("").trim();
            if user.is_empty() || user.chars().count() > 128 || user.chars().any(char::is_control) {
                return page_error(
                    400,
                    "the user id must be 1 to 128 characters without control characters",
                );
            }
            let user = user.to_owned();
            issue(
                &mut live,
                &pending.client_id,
                &user,
                granted,
                &pending.back,
                pending.challenge,
            )
        }
        _ => page_error(400, "the consent form must say approve or deny"),
    }
}

/// The client named by `client_id` and where its answer goes.
fn client_and_back(shared: &Shared, params: &Params) -> Result<(Client, Back), String> {
    let client = find_client(shared, params.required("client_id")?)?;
    let redirect_uri = match params.one("redirect_uri")? {
        Some(given)
            if client
                .redirect_uris
                .iter()
                .any(|r| redirect_matches(r, given)) =>
        {
            given.to_owned()
        }
        Some(given) => {
            return Err(format!(
                "`{given}` is not a redirect URI registered for this client"
            ));
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => return Err("`redirect_uri` is missing and the client registered several".into()),
        },
    };
    Ok((
        client,
        Back {
            redirect_uri,
            state: params.one("state")?.map(str::to_owned),
            issuer: shared.issuer(),
        },
    ))
}

/// The requested scopes, each declared; none requested means all.
fn requested_scopes(shared: &Shared, scope: Option<&str>) -> Result<Vec<String>, String> {
    let declared = &shared.config().scopes;
    let mut scopes: Vec<String> = Vec::new();
    for scope in scope.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
        if !declared.iter().any(|d| d == scope) {
            return Err(format!(
                "scope `{scope}` is not defined; this server's scopes: {}",
                declared.join(" ")
            ));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    if scopes.is_empty() {
        scopes = declared.clone();
    }
    Ok(scopes)
}

/// RFC 7636 4.2: 43 to 128 unreserved characters.
pub fn pkce_shaped(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Issues a code and redirects to the client with it.
fn issue(
    live: &mut Live,
    client_id: &str,
    sub: &str,
    scopes: Vec<String>,
    back: &Back,
    challenge: String,
) -> Reply {
    let now = Instant::now();
    live.codes.retain(|_, code| code.expires > now);
    if live.codes.len() >= MAX_OUTSTANDING {
        return back.error(
            "temporarily_unavailable",
            "too many unused codes; try again later",
        );
    }
    let code = random_token();
    live.codes.insert(
        code.clone(),
        Code {
            grant: Grant {
                client_id: client_id.to_owned(),
                sub: sub.to_owned(),
                scopes,
            },
            redirect_uri: back.redirect_uri.clone(),
            challenge,
            expires: now + CODE_LIFETIME,
        },
    );
    back.redirect(&[("code", &code)])
}

fn render(context: minijinja::Value) -> String {
    let mut env = Environment::new();
    env.add_template("consent.html", include_str!("consent.html"))
        .expect("the consent page is a valid template");
    env.get_template("consent.html")
        .and_then(|template| template.render(context))
        .expect("the consent page renders")
}

/// An error shown to the person, not sent to the client.
fn page_error(status: u16, why: &str) -> Reply {
    page_headers(Reply::html(status, render(context! { error => why })))
}

/// The page can be neither framed (clickjacking) nor made to load anything.
/// Its URL (state, challenge) goes to no other site; `no-referrer` would also
/// make browsers post the form with `Origin: null` (Fetch, "append a request
/// Origin header"), which [`decide`] refuses as cross-site.
fn page_headers(reply: Reply) -> Reply {
    reply
        .with("X-Frame-Options", "DENY")
        .with(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        )
        .with("X-Content-Type-Options", "nosniff")
        .with("Referrer-Policy", "same-origin")
}
