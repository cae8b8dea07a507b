//! Field rules, shared by the answers file, the prompts and `add`: each
//! returns the value, or the reason it is refused, phrased so that it can
//! follow a field path in a list of problems or stand under a prompt.

use url::Url;

use super::default_resource;
use super::ident::is_keyword;

/// Cargo's package name rules, plus the names Cargo refuses for new packages.
pub fn check_package_name(name: &str) -> Result<String, String> {
    const ALLOWED: &str = "a package name is 1 to 64 ASCII letters, digits, `-` and `_`, \
                           starting with a letter";
    let mut chars = name.chars();
    let valid_start = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !valid_start
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!("`{name}` is not allowed: {ALLOWED}"));
    }
    let crate_name = name.replace('-', "_");
    if is_keyword(&crate_name)
        || [
            "test",
            "core",
            "std",
            "alloc",
            "proc_macro",
            "build",
            "deps",
            "examples",
        ]
        .contains(&crate_name.as_str())
    {
        return Err(format!(
            "`{name}` is reserved by Rust or Cargo; choose another package name"
        ));
    }
    if ["con", "prn", "aux", "nul", "com1", "lpt1"].contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "`{name}` is a reserved file name on Windows; choose another package name"
        ));
    }
    Ok(name.to_string())
}

/// Descriptions may hold any text; control characters other than newline and
/// tab are refused because they could hide content in a terminal or editor.
pub fn check_free_text(text: &str) -> Result<String, String> {
    match text
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        Some(c) => Err(format!(
            "contains the control character U+{:04X}; text may hold any characters but \
             control characters other than newline and tab",
            u32::from(c)
        )),
        None => Ok(text.to_string()),
    }
}

/// An absolute URL: `https`, or `http` only for loopback hosts; no fragment,
/// no user name or password.
pub fn check_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| {
        format!("`{value}` is not an absolute URL ({e}); expected e.g. https://mcp.example.com")
    })?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = matches!(
                url.host_str(),
                Some("localhost") | Some("127.0.0.1") | Some("[::1]")
            );
            if !loopback {
                return Err(format!(
                    "`{value}` uses http; use https (http is allowed only for localhost, \
                     127.0.0.1 and [::1])"
                ));
            }
        }
        other => {
            return Err(format!(
                "`{value}` has the scheme `{other}`; use https (or http for localhost)"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{value}` has no host"));
    }
    if url.fragment().is_some() {
        return Err(format!("`{value}` has a fragment (`#...`); remove it"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{value}` contains a user name or password; remove them"
        ));
    }
    if let Some(c) = value.chars().find(|c| !is_uri_char(*c)) {
        return Err(format!(
            "`{value}` contains the character {c:?}, which a URL may not hold (RFC 3986); \
             percent-encode it"
        ));
    }
    Ok(url)
}

/// The characters RFC 3986 allows in a URI. Refusing the rest also keeps
/// every URL safe to place in generated code, Markdown and configuration.
fn is_uri_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// An origin-only URL (scheme, host, optional port and trailing slash).
fn check_origin_url(value: &str, what: &str) -> Result<String, String> {
    let url = check_url(value)?;
    if url.path() != "/" || url.query().is_some() {
        return Err(format!(
            "`{value}` has a path or query; {what} is an origin only, e.g. {}",
            url.origin().ascii_serialization()
        ));
    }
    Ok(value.to_string())
}

pub fn check_server_url(value: &str) -> Result<String, String> {
    check_origin_url(value, "the server URL")
}

pub fn check_environment_url(value: &str) -> Result<String, String> {
    check_origin_url(value, "the Scalekit environment URL")
}

/// The MCP endpoint path: `/` then segments of unreserved URL characters.
pub fn check_mcp_path(path: &str) -> Result<String, String> {
    const ALLOWED: &str = "a path such as /mcp: `/` followed by segments of letters, digits, \
                           `-`, `_`, `.` and `~`, with no trailing `/`";
    let valid = path.len() > 1
        && path.starts_with('/')
        && path[1..].split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
        });
    if !valid {
        return Err(format!("`{path}` is not allowed: {ALLOWED}"));
    }
    if path == "/healthz" || path == "/.well-known" || path.starts_with("/.well-known/") {
        return Err(format!(
            "`{path}` is taken by the server's own routes (/healthz, /.well-known/...); \
             choose another path such as /mcp"
        ));
    }
    Ok(path.to_string())
}

/// The resource must be a URL this server answers for: the same origin as the
/// server URL, and the MCP endpoint's URL or a prefix of it, as clients check.
pub fn check_resource_for(
    resource: &str,
    server_url: &str,
    mcp_path: &str,
) -> Result<String, String> {
    let url = check_url(resource)?;
    if url.query().is_some() {
        return Err(format!(
            "`{resource}` has a query; a resource identifier has none (RFC 8707)"
        ));
    }
    let server = Url::parse(server_url).map_err(|e| e.to_string())?;
    if url.origin() != server.origin() {
        return Err(format!(
            "`{resource}` is not on the server URL's origin ({}); clients fetch its metadata \
             from this server, so use e.g. {}",
            server.origin().ascii_serialization(),
            default_resource(server_url, mcp_path)
        ));
    }
    let path = url.path().trim_end_matches('/');
    let endpoint_prefix =
        path.is_empty() || mcp_path == path || mcp_path.starts_with(&format!("{path}/"));
    if !endpoint_prefix {
        return Err(format!(
            "`{resource}` is neither the MCP endpoint's URL nor a prefix of it; clients refuse \
             such a resource, so use {}",
            default_resource(server_url, mcp_path)
        ));
    }
    Ok(resource.to_string())
}

/// The Scalekit MCP server id, used in URLs: letters, digits, `_` and `-`.
pub fn check_resource_id(id: &str) -> Result<String, String> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "`{id}` is not allowed: a Scalekit resource id is 1 to 128 ASCII letters, digits, \
             `_` and `-`, e.g. res_1234567890"
        ));
    }
    Ok(id.to_string())
}

/// An accepted `aud` value. Commas are refused because `MCP_AUDIENCE` is a
/// comma-separated list.
pub fn check_audience(value: &str) -> Result<String, String> {
    if value.is_empty() || value.chars().any(|c| c == ',' || !is_uri_char(c)) {
        return Err(format!(
            "`{value}` is not allowed: an audience value is an id or URL made of the \
             characters URLs allow, without a comma, e.g. res_1234567890 or \
             https://mcp.example.com/mcp"
        ));
    }
    Ok(value.to_string())
}

pub fn check_port(port: i64) -> Result<u16, String> {
    u16::try_from(port)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{port} is not allowed: a port is a number from 1 to 65535"))
}

/// An RFC 6749 scope token; `offline_access` is refused because MCP servers
/// should not advertise it (MCP 2026-07-28).
pub fn check_scope_name(name: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
    if !valid {
        return Err(format!(
            "`{name}` is not allowed: a scope is 1 or more printable ASCII characters \
             without space, `\"` or `\\` (RFC 6749), e.g. todo:read"
        ));
    }
    if name == "offline_access" {
        return Err(
            "`offline_access` is not allowed: it is for refresh tokens, which the \
             authorization server grants; a resource server should not advertise it"
                .to_string(),
        );
    }
    Ok(name.to_string())
}

/// The MCP tool name rule: 1 to 128 of `A-Z a-z 0-9 _ - .`.
pub fn check_tool_name(name: &str) -> Result<String, String> {
    if name.is_empty()
        || name.len() > 128
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(format!(
            "`{name}` is not allowed: a tool name is 1 to 128 of A-Z, a-z, 0-9, `_`, `-` and \
             `.` (MCP), e.g. list_todos"
        ));
    }
    Ok(name.to_string())
}

/// Argument names follow the tool name rule but are shorter.
pub fn check_argument_name(name: &str) -> Result<String, String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(format!(
            "`{name}` is not allowed: an argument name is 1 to 64 of A-Z, a-z, 0-9, `_`, `-` \
             and `.`, e.g. limit"
        ));
    }
    Ok(name.to_string())
}
