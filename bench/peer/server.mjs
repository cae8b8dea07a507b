// The README example (tests/fixtures/readme.yaml) written the way a TypeScript
// developer would with the official MCP SDK on Express, for bench/compare.sh:
// the RFC 9728 metadata, a stateless Streamable HTTP endpoint with JSON answers,
// the SDK's requireBearerAuth with a jose verifier (RS256, iss, aud, exp, nbf),
// and the tools list_todos (todo:read) and create_todo (todo:write).
//
// Configured like the generated server, from the environment:
//   MCP_LISTEN_ADDR           127.0.0.1:PORT (loopback only)
//   MCP_SERVER_URL            http://127.0.0.1:PORT, the public base URL
//   SCALEKIT_ENVIRONMENT_URL  the stand-in's URL; keys at <url>/keys
//   SCALEKIT_RESOURCE_ID      res_1234567890

import { InsufficientScopeError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { metadataHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/metadata.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import * as z from 'zod';

function required(name) {
    const value = process.env[name];
    if (!value) {
        console.error(`${name} is required`);
        process.exit(2);
    }
    return value;
}

const [host, port] = required('MCP_LISTEN_ADDR').split(':');
const serverUrl = required('MCP_SERVER_URL').replace(/\/$/, '');
const environmentUrl = required('SCALEKIT_ENVIRONMENT_URL').replace(/\/$/, '');
const resourceId = required('SCALEKIT_RESOURCE_ID');

// The generated server's defaults for the same answers.
const resource = `${serverUrl}/mcp`;
const authorizationServer = `${environmentUrl}/resources/${resourceId}`;
const audience = [resourceId, resource];
// Scalekit is moving from the first issuer to the second; both are accepted.
const issuers = [environmentUrl, authorizationServer];
const metadataUrl = getOAuthProtectedResourceMetadataUrl(new URL(resource));

// todo:write grants todo:read, as `includes` says in the answers.
const INCLUDES = new Map([['todo:write', ['todo:read']]]);
const TOOL_SCOPES = new Map([
    ['list_todos', ['todo:read']],
    ['create_todo', ['todo:write']],
]);

function grantedScopes(payload) {
    const granted = [
        ...(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []),
        ...(Array.isArray(payload.scopes) ? payload.scopes.filter((scope) => typeof scope === 'string') : []),
    ];
    return [...new Set(granted.flatMap((scope) => [scope, ...(INCLUDES.get(scope) ?? [])]))];
}

// jose's messages quote claim names, which would break the quoted
// error_description of the WWW-Authenticate header: fixed texts instead.
const TOKEN_ERRORS = new Map([
    ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'The access token signature is invalid'],
    ['ERR_JWT_EXPIRED', 'The access token expired'],
    ['ERR_JWKS_NO_MATCHING_KEY', 'The access token is signed with an unknown key'],
    ['ERR_JOSE_ALG_NOT_ALLOWED', 'The access token must be signed with RS256'],
]);

// Keys are cached by jose and refetched (at most every 30 s) on an unknown kid.
const jwks = createRemoteJWKSet(new URL(`${environmentUrl}/keys`));

/** @type {import('@modelcontextprotocol/sdk/server/auth/provider.js').OAuthTokenVerifier} */
const verifier = {
    async verifyAccessToken(token) {
        let payload;
        try {
            ({ payload } = await jwtVerify(token, jwks, {
                algorithms: ['RS256'],
                issuer: issuers,
                audience,
                requiredClaims: ['exp', 'sub'],
                clockTolerance: 30,
            }));
        } catch (error) {
            if (error instanceof errors.JOSEError) {
                throw new InvalidTokenError(TOKEN_ERRORS.get(error.code) ?? 'The access token is invalid');
            }
            throw error;
        }
        return {
            token,
            clientId: typeof payload.client_id === 'string' ? payload.client_id : '',
            scopes: grantedScopes(payload),
            expiresAt: payload.exp,
            extra: { sub: payload.sub },
        };
    },
};

// The SDK has no per-tool scope gate: requireBearerAuth's requiredScopes holds
// for the whole endpoint. So this middleware peeks at the JSON-RPC message that
// express.json() parsed and answers a tools/call of a tool whose scopes the
// token lacks with 403 insufficient_scope, before the transport sees it.
function requireToolScopes(req, res, next) {
    const messages = Array.isArray(req.body) ? req.body : [req.body];
    for (const message of messages) {
        if (message?.method !== 'tools/call') continue;
        const tool = message.params?.name;
        const needed = TOOL_SCOPES.get(tool);
        if (needed && !needed.every((scope) => req.auth.scopes.includes(scope))) {
            const error = new InsufficientScopeError(`The tool ${tool} needs the scopes: ${needed.join(' ')}`);
            res.set(
                'WWW-Authenticate',
                `Bearer error="insufficient_scope", scope="${needed.join(' ')}", resource_metadata="${metadataUrl}"`,
            );
            res.status(403).json(error.toResponseObject());
            return;
        }
    }
    next();
}

// Checked again inside each tool, as the generated server does, so a tool
// never runs for a token that lacks its scopes whatever the middleware does.
function caller(tool, extra) {
    const auth = extra.authInfo;
    if (!auth || !TOOL_SCOPES.get(tool).every((scope) => auth.scopes.includes(scope))) {
        throw new McpError(ErrorCode.InvalidRequest, `The tool ${tool} needs the scopes: ${TOOL_SCOPES.get(tool).join(' ')}`);
    }
    return auth.extra.sub;
}

function notImplemented(tool, sub, args) {
    return {
        content: [
            {
                type: 'text',
                text: `${tool} is not implemented yet. It was called by ${sub} with the arguments ${JSON.stringify(args)}.`,
            },
        ],
    };
}

// Built once: the SDK's stateless pattern below creates a server per request.
const listTodosInput = { limit: z.number().int().optional().describe('Most items to return') };
const createTodoInput = { title: z.string() };

function mcpServer() {
    const server = new McpServer({ name: 'todo-mcp', version: '0.1.0' }, { instructions: 'Todo list tools' });
    server.registerTool(
        'list_todos',
        { description: "List the caller's todos", inputSchema: listTodosInput },
        async (args, extra) => notImplemented('list_todos', caller('list_todos', extra), { limit: args.limit ?? null }),
    );
    server.registerTool(
        'create_todo',
        { description: 'Create a todo', inputSchema: createTodoInput },
        async (args, extra) => notImplemented('create_todo', caller('create_todo', extra), args),
    );
    return server;
}

// Host header checks against DNS rebinding (loopback), and express.json().
const app = createMcpExpressApp({ host });

const metadata = metadataHandler({
    resource,
    authorization_servers: [authorizationServer],
    bearer_methods_supported: ['header'],
    scopes_supported: ['todo:read', 'todo:write'],
    resource_name: 'todo-mcp',
    resource_documentation: 'https://docs.example.com/mcp',
});
app.use('/.well-known/oauth-protected-resource/mcp', metadata);
app.use('/.well-known/oauth-protected-resource', metadata);

// The SDK's stateless Streamable HTTP example: a new server and transport per
// request, closed when the response is.
app.post(
    '/mcp',
    requireBearerAuth({ verifier, resourceMetadataUrl: metadataUrl }),
    requireToolScopes,
    async (req, res) => {
        const server = mcpServer();
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
        res.on('close', () => {
            transport.close();
            server.close();
        });
        try {
            await server.connect(transport);
            await transport.handleRequest(req, res, req.body);
        } catch (error) {
            console.error('MCP request failed:', error);
            if (!res.headersSent) {
                res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
            }
        }
    },
);

const listener = app.listen(Number(port), host, (error) => {
    if (error) {
        console.error(`cannot listen on ${host}:${port}: ${error.message}`);
        process.exit(1);
    }
});
const stop = () => listener.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
