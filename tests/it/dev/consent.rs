//! The consent page a person sees without `--approve`: what it shows, the
//! headers that refuse framing, and the form it posts back.

use serde_json::json;

use super::{CALLBACK, Config, Env, Pkce, Resp, SCOPES, auth_pairs, config, param, text, verify};

fn consenting() -> Env {
    Env::start(Config {
        approve: false,
        ..config()
    })
}

/// The `<input ...>` tags of a page.
fn inputs(page: &str) -> Vec<&str> {
    page.match_indices("<input")
        .map(|(at, _)| &page[at..at + page[at..].find('>').unwrap() + 1])
        .collect()
}

/// An attribute's value in one tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

fn form_token(page: &str) -> String {
    inputs(page)
        .into_iter()
        .find(|tag| attribute(tag, "name") == Some("form_token"))
        .and_then(|tag| attribute(tag, "value"))
        .expect("a form token")
        .to_owned()
}

/// A consent page for a new client asking for `scope` (all when `None`).
fn page(env: &Env, scope: Option<&str>) -> (String, Pkce, Resp) {
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let mut pairs = auth_pairs(&client_id, &pkce);
    pairs.extend(scope.map(|scope| ("scope", scope)));
    let reply = env.authorize(&pairs);
    assert_eq!(reply.status, 200, "{}", reply.body);
    (client_id, pkce, reply)
}

/// Posts the consent form as the browser showing it would.
fn post(env: &Env, pairs: &[(&str, &str)]) -> Resp {
    let origin = env.standin.url().to_owned();
    env.post_form("/oauth/authorize", &[("Origin", &origin)], pairs)
}

#[test]
fn the_page_shows_the_client_its_redirect_uri_the_user_and_a_checked_box_per_scope() {
    let env = consenting();
    let (client_id, _, reply) = page(&env, None);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|v| v.starts_with("text/html"))
    );
    let page = &reply.body;
    let shown = text(page);
    assert!(shown.contains("Test Client"), "{page}");
    assert!(shown.contains(&client_id), "{page}");
    assert!(shown.contains(CALLBACK), "{page}");
    assert!(!page.contains("<script"), "works without JavaScript");

    let inputs = inputs(page);
    let user = inputs
        .iter()
        .find(|tag| attribute(tag, "name") == Some("user_id"))
        .expect("a user id field");
    assert_eq!(attribute(user, "type"), Some("text"));
    assert_eq!(attribute(user, "value"), Some("dev-user"));
    assert!(!user.contains("readonly") && !user.contains("disabled"));

    let boxes: Vec<&&str> = inputs
        .iter()
        .filter(|tag| attribute(tag, "type") == Some("checkbox"))
        .collect();
    assert_eq!(boxes.len(), SCOPES.len(), "{boxes:?}");
    for (tag, scope) in boxes.iter().zip(SCOPES) {
        assert_eq!(attribute(tag, "name"), Some("scope"), "{tag}");
        assert_eq!(attribute(tag, "value"), Some(scope), "{tag}");
        assert!(tag.contains(" checked"), "{tag}");
    }
    let form_at = page.find("<form").unwrap();
    assert_eq!(attribute(&page[form_at..], "method"), Some("post"));
    for decision in ["approve", "deny"] {
        assert!(
            page.contains(&format!(r#"name="decision" value="{decision}""#)),
            "{page}"
        );
    }
}

#[test]
fn only_the_requested_scopes_get_a_box() {
    let env = consenting();
    let (_, _, reply) = page(&env, Some("todo:write"));
    let boxes: Vec<&str> = inputs(&reply.body)
        .into_iter()
        .filter(|tag| attribute(tag, "type") == Some("checkbox"))
        .collect();
    assert_eq!(boxes.len(), 1, "{boxes:?}");
    assert_eq!(attribute(boxes[0], "value"), Some("todo:write"));
}

#[test]
fn the_page_refuses_framing() {
    let env = consenting();
    let (_, _, reply) = page(&env, None);
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    let csp = reply.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // Error pages too.
    let error = env.authorize(&[("client_id", "dev_unknown")]);
    error.assert_error_page(400);
    assert_eq!(error.header("x-frame-options"), Some("DENY"));
    assert!(
        error
            .header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

/// Under `no-referrer` a browser posts a same-origin form with `Origin:
/// null`, which the form's cross-site check refuses: the page could never
/// be approved from Chromium.
#[test]
fn the_page_keeps_its_url_from_other_sites_but_lets_its_form_say_where_it_comes_from() {
    let env = consenting();
    let (_, _, reply) = page(&env, None);
    assert_eq!(reply.header("referrer-policy"), Some("same-origin"));
}

#[test]
fn what_a_client_names_itself_is_shown_as_text() {
    let env = consenting();
    let reply = env.register(&json!({
        "client_name": "<script>alert(1)</script>",
        "redirect_uris": [CALLBACK],
        "token_endpoint_auth_method": "none",
    }));
    let client_id = reply.json()["client_id"].as_str().unwrap().to_owned();
    let pkce = Pkce::new();
    let page = env.authorize(&auth_pairs(&client_id, &pkce)).body;
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)"), "{page}");
}

#[test]
fn approving_with_a_scope_unchecked_grants_only_the_checked_ones_to_the_chosen_user() {
    let env = consenting();
    let (client_id, pkce, reply) = page(&env, None);
    let token = form_token(&reply.body);
    let decided = post(
        &env,
        &[
            ("form_token", &token),
            ("user_id", "alice@example.com"),
            ("scope", "todo:read"),
            ("decision", "approve"),
        ],
    );
    let location = decided.location();
    assert!(location.as_str().starts_with(CALLBACK), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("st-42"));
    assert_eq!(param(&location, "iss"), Some(env.issuer()));
    let code = param(&location, "code").expect("a code");

    let granted = env.exchange(&client_id, &code, &pkce);
    assert_eq!(granted.status, 200, "{}", granted.body);
    let granted = granted.json();
    assert_eq!(granted["scope"], "todo:read");
    let (_, claims) = verify(granted["access_token"].as_str().unwrap(), &env.keys());
    assert_eq!(claims["scope"], "todo:read");
    assert_eq!(claims["sub"], "alice@example.com");
}

#[test]
fn deny_sends_access_denied_back() {
    let env = consenting();
    let (_, _, reply) = page(&env, None);
    let token = form_token(&reply.body);
    let location = post(
        &env,
        &[
            ("form_token", &token),
            ("user_id", "dev-user"),
            ("scope", "todo:read"),
            ("scope", "todo:write"),
            ("decision", "deny"),
        ],
    )
    .location();
    assert!(location.as_str().starts_with(CALLBACK), "{location}");
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&location, "state").as_deref(), Some("st-42"));
    assert_eq!(param(&location, "iss"), Some(env.issuer()));
    assert_eq!(param(&location, "code"), None);
}

#[test]
fn the_form_is_refused_without_its_token_with_a_used_one_or_from_another_site() {
    let env = consenting();
    let (_, _, reply) = page(&env, None);
    let token = form_token(&reply.body);
    let approve = |token: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("form_token", token),
            ("user_id", "dev-user"),
            ("scope", "todo:read"),
            ("decision", "approve"),
        ]
    };
    let token: &'static str = Box::leak(token.into_boxed_str());

    let without: Vec<_> = approve(token)
        .into_iter()
        .filter(|(name, _)| *name != "form_token")
        .collect();
    post(&env, &without).assert_error_page(400);
    post(&env, &approve("made-up-token")).assert_error_page(400);

    for headers in [
        [("Origin", "https://attacker.example")],
        [("Origin", "null")],
        [("Sec-Fetch-Site", "cross-site")],
    ] {
        env.post_form("/oauth/authorize", &headers, &approve(token))
            .assert_error_page(403);
    }

    // Refused posts leave the form usable once by the page that holds it...
    assert!(param(&post(&env, &approve(token)).location(), "code").is_some());
    // ...and only once.
    post(&env, &approve(token)).assert_error_page(400);
}

#[test]
fn a_scope_that_was_not_requested_cannot_be_added_on_the_form() {
    let env = consenting();
    let (_, _, reply) = page(&env, Some("todo:read"));
    let token = form_token(&reply.body);
    let reply = post(
        &env,
        &[
            ("form_token", &token),
            ("user_id", "dev-user"),
            ("scope", "todo:read"),
            ("scope", "todo:write"),
            ("decision", "approve"),
        ],
    );
    reply.assert_error_page(400);
}
