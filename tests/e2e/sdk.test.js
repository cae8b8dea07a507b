// The official MCP TypeScript SDK against the README's example server run
// by `mcp-oauth-new dev --approve`: discovery from the 401, and the server
// with tokens from `mcp-oauth-new dev token`. The SDK's own sign-in is in
// sign-in.test.js.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
    discoverAuthorizationServerMetadata,
    discoverOAuthProtectedResourceMetadata,
    discoverOAuthServerInfo,
    extractResourceMetadataUrl,
    extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Dev, RESOURCE_ID, SCOPES, START_TIMEOUT_MS, failed, step, toolText } from './dev.js';

let dev;
const clients = [];

before(async () => (dev = await Dev.start({ flags: ['--approve'] })), { timeout: START_TIMEOUT_MS });

after(async () => {
    for (const client of clients) await client.close().catch(() => {});
    await dev?.stop();
    if (failed() && dev) console.error(dev.logs());
});

/** An SDK client connected with `Authorization: Bearer <token>`; `fetch` may observe responses. */
async function connect(token, fetch) {
    const transport = new StreamableHTTPClientTransport(new URL(dev.mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
        fetch,
    });
    const client = new Client({ name: 'mcp-oauth-new-e2e', version: '1.0.0' });
    clients.push(client);
    await client.connect(transport);
    return client;
}

step("a 401's challenge leads to the resource metadata, and that to dev's authorization server", async () => {
    const metadataUrl = `${dev.origin}/.well-known/oauth-protected-resource/mcp`;
    const response = await fetch(dev.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'e2e', version: '1' } },
        }),
    });
    assert.equal(response.status, 401);

    const challenge = extractWWWAuthenticateParams(response);
    assert.equal(challenge.resourceMetadataUrl?.href, metadataUrl);
    assert.equal(challenge.scope, SCOPES.join(' '));
    assert.equal(challenge.error, undefined, 'no error attribute without credentials (RFC 6750 3.1)');
    assert.equal(extractResourceMetadataUrl(response)?.href, metadataUrl);

    const metadata = await discoverOAuthProtectedResourceMetadata(dev.mcpUrl, {
        resourceMetadataUrl: challenge.resourceMetadataUrl,
    });
    // dev moved the answers' https://mcp.example.com/mcp to its loopback port.
    assert.equal(metadata.resource, dev.mcpUrl);
    assert.deepEqual(metadata.authorization_servers, [dev.issuer]);
    assert.deepEqual(metadata.scopes_supported, SCOPES);
    assert.deepEqual(metadata.bearer_methods_supported, ['header']);
    // Without the hint, the SDK finds the same document by RFC 9728 path insertion.
    assert.deepEqual(await discoverOAuthProtectedResourceMetadata(dev.mcpUrl), metadata);

    const authorizationServer = await discoverAuthorizationServerMetadata(metadata.authorization_servers[0]);
    assert.ok(authorizationServer, 'authorization server metadata found');
    assert.equal(authorizationServer.issuer, dev.issuer);
    assert.deepEqual(authorizationServer.code_challenge_methods_supported, ['S256']);
    assert.equal(
        authorizationServer.registration_endpoint,
        `${dev.base}/api/v1/resources/${RESOURCE_ID}/clients:register`,
    );
    assert.equal(authorizationServer.jwks_uri, `${dev.base}/keys`);

    const info = await discoverOAuthServerInfo(dev.mcpUrl);
    assert.equal(info.authorizationServerUrl, dev.issuer);
    assert.deepEqual(info.resourceMetadata, metadata);
});

step('with a `dev token`, the SDK client connects, lists the tools and calls them', async () => {
    const client = await connect(dev.token({ sub: 'user-e2e' }));
    assert.equal(client.getServerVersion()?.name, 'todo-mcp');

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['create_todo', 'list_todos']);
    const createTodo = tools.find((tool) => tool.name === 'create_todo');
    assert.deepEqual(createTodo.inputSchema.required, ['title']);

    const listed = toolText(await client.callTool({ name: 'list_todos', arguments: { limit: 5 } }), 'list_todos');
    assert.match(listed, /user-e2e/);
    toolText(await client.callTool({ name: 'create_todo', arguments: { title: 'Buy milk' } }), 'create_todo');
});

step("a `dev token --scopes todo:read` gets 403 insufficient_scope on a write, naming the scope to ask for", async () => {
    const responses = [];
    const observe = async (url, init) => {
        const response = await fetch(url, init);
        responses.push(response);
        return response;
    };
    const client = await connect(dev.token({ scopes: ['todo:read'] }), observe);

    // Every tool is listed, so the client knows what it could step up to.
    const { tools } = await client.listTools();
    assert.equal(tools.length, 2);
    toolText(await client.callTool({ name: 'list_todos', arguments: {} }), 'list_todos');

    await assert.rejects(client.callTool({ name: 'create_todo', arguments: { title: 'Buy milk' } }), (error) => {
        assert.ok(error instanceof StreamableHTTPError, `a transport error, got ${error}`);
        assert.equal(error.code, 403);
        assert.match(error.message, /insufficient_scope/);
        return true;
    });
    const refused = responses.findLast((response) => response.status === 403);
    assert.ok(refused, 'the 403 response was seen');
    const challenge = extractWWWAuthenticateParams(refused);
    assert.equal(challenge.error, 'insufficient_scope');
    assert.equal(challenge.scope, 'todo:write');
    assert.equal(challenge.resourceMetadataUrl?.href, `${dev.origin}/.well-known/oauth-protected-resource/mcp`);
});
