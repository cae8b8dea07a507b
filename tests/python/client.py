"""The official MCP Python SDK signs in to a server run by `mcp-oauth-new dev
--approve`, with the SDK's own OAuth client (`OAuthClientProvider`).

    python client.py step-up URL   # sign in for todo:read, list, call, step up
    python client.py refresh URL   # under `dev --token-ttl 1`: refresh, no new sign-in

Run by tests/python_client.rs, which reads dev's request log beside this
output. Every HTTP request the SDK makes is printed as `request: ...`; a
failed expectation exits non-zero with `FAILED: ...`.
"""

import argparse
import asyncio
import base64
import json
import sys
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

# Nothing listens here: the redirect to it is read, never followed.
REDIRECT_URI = "http://127.0.0.1:33418/callback"
# The generated server accepts a token this long past its `exp`
# (LEEWAY_SECONDS in templates/src/auth.rs).
LEEWAY_SECONDS = 30
# The README example's scopes, as its 401 challenge names them.
ALL_SCOPES = "todo:read todo:write"


class Failed(Exception):
    pass


def expect(condition, why):
    if not condition:
        raise Failed(why)


class Memory(TokenStorage):
    """The SDK's storage, in memory; the last tokens are read by the script."""

    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Browser:
    """The person's browser under `--approve`: it opens the authorization URL,
    reads the stand-in's 302 without following it, and hands the code, state
    and iss to the SDK's callback handler.

    The SDK asks for the scopes the server's 401 names (every scope here),
    whatever its client metadata says. `first_scope`, when given, replaces
    them in the first authorization only: a person who grants only that."""

    def __init__(self, first_scope=None):
        self.first_scope = first_scope
        self.scopes_asked = []
        self.result = None

    async def open(self, url: str) -> None:
        if self.first_scope and not self.scopes_asked:
            parts = urlsplit(url)
            query = parse_qs(parts.query)
            print(f"authorize: the SDK asked for {query['scope'][0]!r}; granting only {self.first_scope!r}")
            query["scope"] = [self.first_scope]
            url = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        async with httpx2.AsyncClient(follow_redirects=False) as http:
            response = await http.get(url)
        print(f"request: GET {urlsplit(url).path} -> {response.status_code}")
        expect(response.status_code == 302, f"authorize answered {response.status_code}: {response.text}")
        location = response.headers["location"]
        expect(location.startswith(REDIRECT_URI + "?"), f"redirected elsewhere: {location}")
        back = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        expect("error" not in back, f"the stand-in refused: {back}")
        asked = parse_qs(urlsplit(url).query)
        expect(asked.get("code_challenge_method") == ["S256"], "the SDK did not use PKCE S256")
        self.scopes_asked.append(asked.get("scope", [""])[0])
        print(f"authorize: scope={self.scopes_asked[-1]!r} resource={asked.get('resource', [''])[0]}")
        self.result = AuthorizationCodeResult(code=back["code"], state=back.get("state"), iss=back.get("iss"))

    async def callback(self) -> AuthorizationCodeResult:
        result, self.result = self.result, None
        expect(result is not None, "the callback ran before a redirect")
        return result


class Requests:
    """Every request the SDK's HTTP client sends, with its answer."""

    def __init__(self):
        self.seen = []

    async def on_response(self, response: httpx2.Response) -> None:
        request = response.request
        label = f"{request.method} {request.url.path}"
        if request.url.path == "/oauth/token":
            form = parse_qs(request.content.decode())
            label += f" grant_type={form['grant_type'][0]}"
        challenge = response.headers.get("www-authenticate", "")
        print(f"request: {label} -> {response.status_code}" + (f" ({challenge})" if challenge else ""))
        self.seen.append((label, response.status_code, challenge))

    def since(self, mark):
        return self.seen[mark:]


def tool_text(result) -> str:
    expect(not result.is_error, f"the tool answered an error: {result}")
    return " ".join(block.text for block in result.content if block.type == "text")


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def signed_in(url: str, granted: str, work) -> None:
    """Runs `work(client, storage, browser, requests)` in a session signed in
    by the SDK's own OAuth client, registered afresh with the stand-in, with
    `granted` the scopes granted at first."""
    storage, requests = Memory(), Requests()
    browser = Browser(first_scope=None if granted == ALL_SCOPES else granted)
    auth = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="mcp-oauth-new python test",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.open,
        callback_handler=browser.callback,
    )
    async with httpx2.AsyncClient(auth=auth, event_hooks={"response": [requests.on_response]}) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            labels = [label for label, _, _ in requests.seen]
            expect(any(label.endswith("clients:register") for label in labels), "the SDK did not register")
            expect(storage.tokens is not None and storage.tokens.refresh_token, "no refresh token was kept")
            scope = claims(storage.tokens.access_token)["scope"]
            expect(browser.scopes_asked == [granted] and scope == granted, f"signed in for {scope!r}")
            print(f"ok: signed in (registration, PKCE, code, token) for {scope!r}")
            await work(client, storage, browser, requests)


async def step_up(url: str) -> None:
    async def work(client, storage, browser, requests):
        tools = sorted(tool.name for tool in (await client.list_tools()).tools)
        expect(tools == ["create_todo", "list_todos"], f"tools: {tools}")
        print(f"ok: tools {tools}")
        text = tool_text(await client.call_tool("list_todos", {"limit": 5}))
        expect("list_todos" in text and "dev-user" in text, f"list_todos said {text!r}")
        print(f"ok: list_todos answered: {text}")

        mark = len(requests.seen)
        text = tool_text(await client.call_tool("create_todo", {"title": "step up"}))
        expect("create_todo" in text and "dev-user" in text, f"create_todo said {text!r}")
        refused = [r for r in requests.since(mark) if r[1] == 403 and 'error="insufficient_scope"' in r[2]]
        expect(refused, "create_todo was never refused with insufficient_scope: nothing to step up from")
        expect(
            browser.scopes_asked == ["todo:read", ALL_SCOPES],
            f"the step-up asked for {browser.scopes_asked}",
        )
        granted = claims(storage.tokens.access_token)["scope"].split()
        expect(sorted(granted) == ["todo:read", "todo:write"], f"the new token grants {granted}")
        print("ok: step-up: 403 insufficient_scope, the SDK authorized again for 'todo:read todo:write' itself")
        print(f"ok: create_todo answered: {text}")

    await signed_in(url, "todo:read", work)


async def refresh(url: str) -> None:
    async def work(client, storage, browser, requests):
        tool_text(await client.call_tool("list_todos", {}))
        old = storage.tokens.access_token
        expires = claims(old)["exp"]
        # Past the server's leeway, so the old token is refused, whatever the
        # SDK believes about it; a whole second more for the claim's rounding.
        wait = expires + LEEWAY_SECONDS + 2 - time.time()
        print(f"waiting {max(wait, 0):.0f} s, past exp + {LEEWAY_SECONDS} s leeway")
        await asyncio.sleep(max(wait, 0))

        async with httpx2.AsyncClient() as raw:
            response = await raw.post(
                url,
                headers={
                    "Authorization": f"Bearer {old}",
                    "Content-Type": "application/json",
                    "Accept": "application/json, text/event-stream",
                },
                content=b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
            )
        challenge = response.headers.get("www-authenticate", "")
        expect(
            response.status_code == 401 and 'error="invalid_token"' in challenge,
            f"the expired token was answered {response.status_code} {challenge!r}",
        )
        print("ok: the server refuses the old access token: 401 invalid_token")

        mark = len(requests.seen)
        text = tool_text(await client.call_tool("list_todos", {"limit": 1}))
        after = requests.since(mark)
        refreshes = [r for r in after if r[0] == "POST /oauth/token grant_type=refresh_token"]
        expect(refreshes and all(r[1] == 200 for r in refreshes), f"no refresh after the wait: {after}")
        expect(len(browser.scopes_asked) == 1, f"authorized again: {browser.scopes_asked}")
        expect(storage.tokens.access_token != old, "the SDK kept the old token")
        how = "after a 401" if any(r[1] == 401 for r in after) else "before sending, from expires_in"
        print(f"ok: refreshed {how}, no new authorization; list_todos answered: {text}")

    await signed_in(url, ALL_SCOPES, work)


def leaves(group: BaseExceptionGroup):
    for error in group.exceptions:
        yield from leaves(error) if isinstance(error, BaseExceptionGroup) else [error]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["step-up", "refresh"])
    parser.add_argument("url")
    args = parser.parse_args()
    scenario = step_up if args.scenario == "step-up" else refresh
    failed = []
    try:
        asyncio.run(scenario(args.url))
    except* Failed as group:  # raised inside the SDK's task groups too
        failed = [str(failure) for failure in leaves(group)]
    for failure in failed:
        print(f"FAILED: {failure}", flush=True)
    if not failed:
        print(f"passed: {args.scenario}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
