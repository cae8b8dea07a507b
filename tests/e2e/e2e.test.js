// End to end: the README's example server, generated and built as a user
// would, driven by the official MCP TypeScript SDK against a Scalekit stand-in.
//
// Run through `cargo test --test e2e`, or alone with `npm test` in this
// directory after `cargo build` (see the README).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
    UnauthorizedError,
    discoverAuthorizationServerMetadata,
    discoverOAuthProtectedResourceMetadata,
    discoverOAuthServerInfo,
    extractResourceMetadataUrl,
    extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { RunningServer, freePort, generateAndBuild, paths, removeDir } from './project.js';
import { ScalekitStandIn } from './standin.js';

const RESOURCE_ID = 'res_1234567890';
const SCOPES = ['todo:read', 'todo:write'];
/** The generated server refetches its keys at most this often (CONTRACT section 3). */
const KEY_REFRESH_INTERVAL_MS = 30_000;
const CHECK_TIMEOUT_MS = 60_000;

let standIn;
let server;
let project;
let mcpUrl;
let metadataUrl;
const clients = [];
let failed = false;

before(
    async () => {
        standIn = await new ScalekitStandIn({ resourceId: RESOURCE_ID, scopes: SCOPES }).start();
        const port = await freePort();
        project = generateAndBuild(port);
        mcpUrl = `${project.origin}/mcp`;
        metadataUrl = `${project.origin}/.well-known/oauth-protected-resource/mcp`;
        server = new RunningServer(project.binary, {
            MCP_LISTEN_ADDR: `127.0.0.1:${port}`,
            SCALEKIT_ENVIRONMENT_URL: standIn.url,
        });
        await server.ready(project.origin);
    },
    { timeout: 35 * 60 * 1000 },
);

after(async () => {
    for (const client of clients) await client.close().catch(() => {});
    await server?.stop();
    if (failed && server) console.error(`--- the generated server's output ---\n${server.logs()}`);
    await standIn?.stop();
    removeDir(project?.dir);
});

/** A test whose failure also prints the server's log at the end. */
function step(name, fn, options = {}) {
    test(name, { timeout: 60_000, ...options }, async (t) => {
        try {
            await fn(t);
        } catch (error) {
            failed = true;
            throw error;
        }
    });
}

/** An SDK client connected with `Authorization: Bearer <token>`; `fetch` may observe responses. */
async function connect(token, fetch) {
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
        fetch,
    });
    const client = new Client({ name: 'mcp-oauth-new-e2e', version: '1.0.0' });
    clients.push(client);
    await client.connect(transport);
    return client;
}

/** The text of a successful tool call, which names the caller. */
function toolText(result, tool) {
    assert.notEqual(result.isError, true, JSON.stringify(result));
    const text = result.content.find((item) => item.type === 'text')?.text ?? '';
    assert.match(text, new RegExp(`${tool} is not implemented yet`), text);
    return text;
}

step("a 401's challenge leads to the resource metadata, and that to the authorization server", async () => {
    const response = await fetch(mcpUrl, {
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

    const metadata = await discoverOAuthProtectedResourceMetadata(mcpUrl, {
        resourceMetadataUrl: challenge.resourceMetadataUrl,
    });
    assert.equal(metadata.resource, mcpUrl);
    assert.deepEqual(metadata.authorization_servers, [standIn.issuer]);
    assert.deepEqual(metadata.scopes_supported, SCOPES);
    assert.deepEqual(metadata.bearer_methods_supported, ['header']);
    // Without the hint, the SDK finds the same document by RFC 9728 path insertion.
    assert.deepEqual(await discoverOAuthProtectedResourceMetadata(mcpUrl), metadata);

    const authorizationServer = await discoverAuthorizationServerMetadata(metadata.authorization_servers[0]);
    assert.ok(authorizationServer, 'authorization server metadata found');
    assert.equal(authorizationServer.issuer, standIn.issuer);
    assert.ok(authorizationServer.code_challenge_methods_supported.includes('S256'));
    assert.equal(authorizationServer.registration_endpoint, `${standIn.issuer}/register`);

    const info = await discoverOAuthServerInfo(mcpUrl);
    assert.equal(info.authorizationServerUrl, standIn.issuer);
    assert.deepEqual(info.resourceMetadata, metadata);
});

step('with a token, the SDK client connects, lists the tools and calls them', async () => {
    const client = await connect(standIn.token({ scope: SCOPES.join(' ') }));
    assert.equal(client.getServerVersion()?.name, 'todo-mcp');

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['create_todo', 'list_todos']);
    const createTodo = tools.find((tool) => tool.name === 'create_todo');
    assert.deepEqual(createTodo.inputSchema.required, ['title']);

    const listed = toolText(await client.callTool({ name: 'list_todos', arguments: { limit: 5 } }), 'list_todos');
    assert.match(listed, /user-e2e/);
    toolText(await client.callTool({ name: 'create_todo', arguments: { title: 'Buy milk' } }), 'create_todo');
});

step("a token without a tool's scope gets 403 insufficient_scope, naming the scope to ask for", async () => {
    const responses = [];
    const observe = async (url, init) => {
        const response = await fetch(url, init);
        responses.push(response);
        return response;
    };
    const client = await connect(standIn.token({ scope: 'todo:read' }), observe);

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
    assert.equal(challenge.resourceMetadataUrl?.href, metadataUrl);
});

/** An in-memory OAuth client, as an MCP host keeps one; the "browser" is `follow()`. */
class InMemoryOAuthProvider {
    constructor() {
        this.redirectUrl = 'http://127.0.0.1:1/callback';
        this.clientMetadata = {
            client_name: 'mcp-oauth-new e2e',
            redirect_uris: [this.redirectUrl],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
        };
        this.authorizationUrls = [];
    }
    clientInformation() {
        return this._client;
    }
    saveClientInformation(client) {
        this._client = client;
    }
    tokens() {
        return this._tokens;
    }
    saveTokens(tokens) {
        this._tokens = tokens;
    }
    redirectToAuthorization(url) {
        this.authorizationUrls.push(new URL(url));
    }
    saveCodeVerifier(verifier) {
        this._verifier = verifier;
    }
    codeVerifier() {
        return this._verifier;
    }

    /** Plays the browser: opens the last authorization URL and returns the code it was sent back with. */
    async follow() {
        const response = await fetch(this.authorizationUrls.at(-1), { redirect: 'manual' });
        assert.equal(response.status, 302, await response.text());
        const location = new URL(response.headers.get('location'));
        assert.equal(`${location.origin}${location.pathname}`, this.redirectUrl);
        return location.searchParams.get('code');
    }
}

step("the SDK's own OAuth flow: discovery, registration, PKCE, and a step-up to the scope a 403 names", async () => {
    const provider = new InMemoryOAuthProvider();
    standIn.consent = ['todo:read']; // the user grants reading only, at first

    const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    const signIn = new Client({ name: 'mcp-oauth-new-e2e', version: '1.0.0' });
    clients.push(signIn);
    await assert.rejects(signIn.connect(first), UnauthorizedError);
    const authorization = provider.authorizationUrls.at(-1);
    assert.ok(authorization, 'the SDK sent the user to the authorization endpoint');
    assert.equal(`${authorization.origin}${authorization.pathname}`, `${standIn.url}/oauth/authorize`);
    assert.equal(authorization.searchParams.get('client_id'), provider.clientInformation().client_id);
    assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorization.searchParams.get('resource'), mcpUrl);
    assert.equal(authorization.searchParams.get('scope'), SCOPES.join(' '), 'the scope of the 401 challenge');
    await first.finishAuth(await provider.follow());
    assert.equal(provider.tokens().scope, 'todo:read');

    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    const client = new Client({ name: 'mcp-oauth-new-e2e', version: '1.0.0' });
    clients.push(client);
    await client.connect(transport);
    toolText(await client.callTool({ name: 'list_todos', arguments: {} }), 'list_todos');

    // The 403 sends the SDK back to the authorization server for exactly the missing scope.
    standIn.consent = null;
    await assert.rejects(client.callTool({ name: 'create_todo', arguments: { title: 'Buy milk' } }), UnauthorizedError);
    assert.equal(provider.authorizationUrls.length, 2);
    assert.equal(provider.authorizationUrls[1].searchParams.get('scope'), 'todo:write');
    await transport.finishAuth(await provider.follow());
    assert.equal(provider.tokens().scope, 'todo:write');
    toolText(await client.callTool({ name: 'create_todo', arguments: { title: 'Buy milk' } }), 'create_todo');
});

step('`mcp-oauth-new check` passes every row against the freshly generated server, with all three tokens', async () => {
    const wrongAudience = standIn.token({ scope: SCOPES.join(' '), aud: ['res_someone_else'] });
    // Not spawnSync: the check talks to the stand-in, which runs in this process.
    const child = spawn(
        paths.generator,
        [
            'check', mcpUrl,
            '--token', standIn.token({ scope: SCOPES.join(' ') }),
            '--wrong-audience-token', wrongAudience,
            // Valid, without the scope `create_todo` needs: the step-up row.
            '--limited-token', standIn.token({ scope: 'todo:read' }),
            '--tool', 'create_todo',
            '--tool-arguments', JSON.stringify({ title: 'Buy milk' }),
            // The server's own origin, which it allows as a browser origin.
            '--origin', new URL(mcpUrl).origin,
            '--json',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, NO_COLOR: '1' } },
    );
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk) => (output.stdout += chunk));
    child.stderr.on('data', (chunk) => (output.stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHECK_TIMEOUT_MS);
    const code = await new Promise((done) => child.once('close', done));
    clearTimeout(timer);

    const report = JSON.parse(output.stdout);
    const status = Object.fromEntries(report.checks.map((check) => [check.id, check.status]));
    const failures = report.checks.filter((check) => check.status === 'fail');
    assert.deepEqual(failures, [], output.stdout);
    assert.equal(code, 0, output.stderr);
    assert.equal(report.ok, true);
    assert.equal(status.https, 'warn', 'plain http on loopback is a warning');
    const reason = (id) => report.checks.find((check) => check.id === id).reason;
    assert.match(reason('protocol-versions'), /^speaks 2026-07-28 \(server\/discover\), 2025-11-25, 2025-06-18, 2025-03-26$/);
    assert.match(reason('insufficient-scope'), /scope="todo:write"/);
    assert.equal(report.checks.length, 19, 'every row ran');
    for (const id of [
        'metadata-path-inserted',
        'metadata-root',
        'metadata-fields',
        'metadata-resource',
        'authorization-server-metadata',
        'pkce-s256',
        'public-client-registration',
        'unauthenticated-401',
        'challenge-resource-metadata',
        'challenge-scope',
        'no-error-without-credentials',
        'mcp-cors',
        'authenticated-initialize',
        'authenticated-tools-list',
        'protocol-versions',
        'insufficient-scope',
        'wrong-audience-refused',
    ]) {
        assert.equal(status[id], 'pass', `${id}: ${JSON.stringify(report.checks.find((check) => check.id === id))}`);
    }
});

// Last, so the other tests' time counts towards the key refresh interval.
step(
    'a new signing key served by the authorization server is picked up without a restart',
    async () => {
        assert.ok(standIn.keyFetches.length > 0, 'the server fetched the keys for the earlier tokens');
        const rotated = standIn.rotate('standin-key-2');
        // The server refetches on an unknown kid at most once per interval: wait it out.
        const wait = standIn.keyFetches.at(-1) + KEY_REFRESH_INTERVAL_MS + 500 - Date.now();
        if (wait > 0) await new Promise((done) => setTimeout(done, wait));
        const fetches = standIn.keyFetches.length;

        const client = await connect(standIn.token({ scope: 'todo:read' }, rotated));
        toolText(await client.callTool({ name: 'list_todos', arguments: {} }), 'list_todos');
        assert.equal(standIn.keyFetches.length, fetches + 1, 'one refetch for the new kid');
        // Tokens signed by the old key keep working while it is served.
        const old = await connect(standIn.token({ scope: 'todo:read' }));
        await old.listTools();
        assert.equal(standIn.keyFetches.length, fetches + 1);
    },
    { timeout: KEY_REFRESH_INTERVAL_MS + 60_000 },
);
