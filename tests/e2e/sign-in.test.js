// The official MCP TypeScript SDK signs in with its own OAuth client to the
// README's example server run by `mcp-oauth-new dev --approve`: 401, metadata
// discovery, registration, authorization with PKCE, token, tool calls; then a
// step-up after a 403, and a refresh once a short-lived token has expired.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, auth, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Dev, SCOPES, START_TIMEOUT_MS, failed, outputPath, step, toolText } from './dev.js';
import { claims } from './jwt.js';
import { InMemoryOAuthProvider, Transcript } from './oauth-client.js';

/** The generated server accepts a token this long past its `exp` (LEEWAY_SECONDS in templates/src/auth.rs). */
const EXP_LEEWAY_S = 30;

let dev;
/** Run with `--token-ttl 1`, for the refresh. */
let shortLived;
const clients = [];

before(
    async () => {
        [dev, shortLived] = await Promise.all([
            Dev.start({ flags: ['--approve'] }),
            Dev.start({ flags: ['--approve', '--token-ttl', '1'] }),
        ]);
    },
    { timeout: START_TIMEOUT_MS },
);

after(async () => {
    for (const client of clients) await client.close().catch(() => {});
    await Promise.all([dev?.stop(), shortLived?.stop()]);
    if (failed()) for (const run of [dev, shortLived]) if (run) console.error(run.logs());
});

function newClient() {
    const client = new Client({ name: 'mcp-oauth-new-e2e', version: '1.0.0' });
    clients.push(client);
    return client;
}

/**
 * The SDK's sign-in as a host does it: connecting gets a 401, the SDK
 * discovers, registers and sends the person to the authorization URL (the
 * provider follows it), the code is exchanged, and a new connection succeeds.
 */
async function signIn(run, provider, fetch) {
    const first = new StreamableHTTPClientTransport(new URL(run.mcpUrl), { authProvider: provider, fetch });
    await assert.rejects(newClient().connect(first), UnauthorizedError);
    await first.finishAuth(provider.lastCode());
    const transport = new StreamableHTTPClientTransport(new URL(run.mcpUrl), { authProvider: provider, fetch });
    const client = newClient();
    await client.connect(transport);
    return { client, transport };
}

step('the SDK signs in on its own: 401, metadata, registration, authorization (PKCE), token, tool calls', async () => {
    const transcript = new Transcript();
    const provider = new InMemoryOAuthProvider({ issuer: dev.issuer, fetch: transcript.fetch });
    const { client } = await signIn(dev, provider, transcript.fetch);

    const [authorization] = provider.authorizationUrls;
    assert.equal(provider.authorizationUrls.length, 1);
    assert.equal(`${authorization.origin}${authorization.pathname}`, `${dev.base}/oauth/authorize`);
    assert.match(provider.clientInformation().client_id, /^dev_/, 'registered with dev (RFC 7591)');
    assert.equal(authorization.searchParams.get('client_id'), provider.clientInformation().client_id);
    assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorization.searchParams.get('resource'), dev.mcpUrl);
    assert.equal(authorization.searchParams.get('scope'), SCOPES.join(' '), 'the scope of the 401 challenge');

    const tokens = provider.tokens();
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.scope, SCOPES.join(' '));
    assert.ok(tokens.refresh_token, 'a refresh token');
    const granted = claims(tokens.access_token);
    assert.equal(granted.iss, dev.issuer);
    assert.deepEqual(granted.aud, ['res_1234567890', dev.mcpUrl]);
    assert.equal(granted.sub, 'dev-user');
    assert.equal(granted.client_id, provider.clientInformation().client_id);

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['create_todo', 'list_todos']);
    const answer = toolText(await client.callTool({ name: 'list_todos', arguments: { limit: 5 } }), 'list_todos');
    assert.match(answer, /dev-user/);
    transcript.note(`tools/call list_todos answered: ${answer}`);

    // Request by request, for a person to read (tests/e2e.rs prints it).
    const path = outputPath('sign-in-transcript.txt');
    writeFileSync(path, `The official MCP TypeScript SDK signs in to ${dev.mcpUrl} (mcp-oauth-new dev --approve)\n\n${transcript.text()}\n`);
    const methods = transcript.entries.map((entry) => entry.split('\n')[0].replace(/\?.*/, ''));
    const expected = [
        `POST ${dev.mcpUrl}`,
        `GET ${dev.origin}/.well-known/oauth-protected-resource/mcp`,
        `GET ${dev.base}/.well-known/oauth-authorization-server/resources/res_1234567890`,
        `POST ${dev.base}/api/v1/resources/res_1234567890/clients:register`,
        `GET ${dev.base}/oauth/authorize`,
        `POST ${dev.base}/oauth/token`,
        `POST ${dev.mcpUrl}`,
    ];
    assert.deepEqual(methods.slice(0, expected.length), expected, transcript.text());
    assert.match(transcript.entries[0], /-> 401\n {2}WWW-Authenticate: Bearer /);
    assert.equal(dev.requests('GET', '/oauth/authorize', 302), 1);
});

step('step-up: a client signed in for todo:read gets 403 on create_todo and re-authorizes for todo:write', async () => {
    const responses = [];
    const observe = async (url, init) => {
        const response = await fetch(url, init);
        responses.push(response);
        return response;
    };
    const provider = new InMemoryOAuthProvider({ issuer: dev.issuer });
    // The SDK asks for the 401 challenge's scope (every scope here) before the client's own
    // `scope`: a host that wants read access only asks `auth()` for it.
    assert.equal(await auth(provider, { serverUrl: dev.mcpUrl, scope: 'todo:read' }), 'REDIRECT');
    assert.equal(provider.authorizationUrls[0].searchParams.get('scope'), 'todo:read');
    const transport = new StreamableHTTPClientTransport(new URL(dev.mcpUrl), { authProvider: provider, fetch: observe });
    await transport.finishAuth(provider.lastCode());
    assert.equal(provider.tokens().scope, 'todo:read');
    const client = newClient();
    await client.connect(transport);
    toolText(await client.callTool({ name: 'list_todos', arguments: {} }), 'list_todos');

    // SDK 1.32.2 answers the 403 by refreshing its token (typescript-sdk#2255): a refresh
    // cannot widen the grant (RFC 6749 6), so the retry gets the same 403 and the SDK gives up.
    const authorizations = dev.requests('GET', '/oauth/authorize', 302);
    const tokenRequests = dev.requests('POST', '/oauth/token', 200);
    await assert.rejects(client.callTool({ name: 'create_todo', arguments: { title: 'Buy milk' } }), (error) => {
        assert.ok(error instanceof StreamableHTTPError, `a transport error, got ${error}`);
        assert.equal(error.code, 403);
        assert.match(error.message, /after trying upscoping/);
        return true;
    });
    assert.equal(dev.requests('POST', '/oauth/token', 200), tokenRequests + 1, 'the SDK refreshed');
    assert.equal(dev.requests('GET', '/oauth/authorize', 302), authorizations, 'and did not re-authorize');

    // So the step-up is driven from the 403's challenge, as the MCP specification describes
    // it: authorize again for the scopes held and the ones the challenge names.
    const challenge = extractWWWAuthenticateParams(responses.findLast((response) => response.status === 403));
    assert.equal(challenge.error, 'insufficient_scope');
    assert.equal(challenge.scope, 'todo:write');
    const scope = [...new Set([...provider.tokens().scope.split(' '), ...challenge.scope.split(' ')])].join(' ');
    provider.invalidateCredentials('tokens');
    const result = await auth(provider, {
        serverUrl: dev.mcpUrl,
        resourceMetadataUrl: challenge.resourceMetadataUrl,
        scope,
    });
    assert.equal(result, 'REDIRECT');
    assert.equal(provider.authorizationUrls.at(-1).searchParams.get('scope'), 'todo:read todo:write');
    await transport.finishAuth(provider.lastCode());
    assert.equal(provider.tokens().scope, 'todo:read todo:write');
    // The same client, on the same session, with the new token.
    toolText(await client.callTool({ name: 'create_todo', arguments: { title: 'Buy milk' } }), 'create_todo');
    toolText(await client.callTool({ name: 'list_todos', arguments: {} }), 'list_todos');
});

let expiring;

step('under `dev --token-ttl 1` the SDK signs in and gets a token that lives one second', async () => {
    const statuses = [];
    const observe = async (url, init) => {
        const response = await fetch(url, init);
        statuses.push(`${init?.method ?? 'GET'} ${new URL(url).pathname} ${response.status}`);
        return response;
    };
    const provider = new InMemoryOAuthProvider({ issuer: shortLived.issuer });
    const { client } = await signIn(shortLived, provider, observe);
    const token = claims(provider.tokens().access_token);
    assert.equal(provider.tokens().expires_in, 1);
    assert.equal(token.exp - token.iat, 1);
    toolText(await client.callTool({ name: 'list_todos', arguments: {} }), 'list_todos');
    expiring = { client, provider, statuses, exp: token.exp };
});

// Last in this file, so the other tests' time counts towards the wait.
step(
    'once the token has expired, the next call gets 401 and the SDK refreshes it without a new authorization',
    async () => {
        assert.ok(expiring, 'the sign-in above succeeded');
        const { client, provider, statuses, exp } = expiring;
        const before = provider.tokens();
        // The server accepts a token until `exp` plus its leeway: wait that out, and a bit.
        const wait = (exp + EXP_LEEWAY_S + 1) * 1000 + 500 - Date.now();
        if (wait > 0) await new Promise((done) => setTimeout(done, wait));
        statuses.length = 0;

        toolText(await client.callTool({ name: 'list_todos', arguments: {} }), 'list_todos');

        assert.deepEqual(statuses, ['POST /mcp 401', 'POST /oauth/token 200', 'POST /mcp 200']);
        assert.notEqual(provider.tokens().access_token, before.access_token);
        assert.notEqual(provider.tokens().refresh_token, before.refresh_token, 'refresh tokens rotate');
        assert.equal(shortLived.requests('GET', '/oauth/authorize', 302), 1, 'one authorization in all');
        assert.equal(shortLived.requests('POST', '/oauth/token', 200), 2, 'the code, then the refresh');
    },
    { timeout: (EXP_LEEWAY_S + 60) * 1000 },
);
