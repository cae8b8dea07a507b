// A small stand-in for a Scalekit environment, on 127.0.0.1 only.
//
// It serves what a generated server and an MCP client need from Scalekit:
// the signing keys (`/keys`), the resource-scoped authorization server
// metadata (RFC 8414 path insertion), dynamic client registration, an
// authorization endpoint that consents on the user's behalf (PKCE S256 only)
// and a token endpoint that mints RS256 access tokens. Tests can also mint
// tokens directly and rotate the signing keys while everything runs.

import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';

const base64url = (data) => Buffer.from(data).toString('base64url');

/** An RSA signing key known by its `kid`. */
export function signingKey(kid) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
    return { kid, privateKey, jwk };
}

/** A compact JWS (RS256) of `claims`, signed by `key`. */
export function signJwt(key, claims) {
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }));
    const payload = base64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey);
    return `${header}.${payload}.${base64url(signature)}`;
}

const now = () => Math.floor(Date.now() / 1000);

export class ScalekitStandIn {
    /**
     * @param {object} options
     * @param {string} options.resourceId the Scalekit MCP server id (`res_...`)
     * @param {string[]} options.scopes the scopes the environment knows
     */
    constructor({ resourceId, scopes }) {
        this.resourceId = resourceId;
        this.scopes = scopes;
        this.keys = [signingKey('standin-key-1')];
        /** The keys `/keys` serves; tests change it to rotate. */
        this.served = [this.keys[0]];
        /** When `/keys` was fetched (ms since the epoch). */
        this.keyFetches = [];
        /** Every authorization request, as URLSearchParams. */
        this.authorizations = [];
        /** Every token request, as URLSearchParams. */
        this.tokenRequests = [];
        /** Scopes the "user" consents to; `null` grants every requested scope. */
        this.consent = null;
        this.clients = new Map();
        this.codes = new Map();
        this.server = createServer((request, response) => {
            this.handle(request, response).catch((error) => {
                response.writeHead(500, { 'content-type': 'text/plain' });
                response.end(String(error?.stack ?? error));
            });
        });
    }

    /** Listens on a free loopback port; sets `url`. */
    async start() {
        await new Promise((resolve, reject) => {
            this.server.once('error', reject);
            this.server.listen(0, '127.0.0.1', resolve);
        });
        this.url = `http://127.0.0.1:${this.server.address().port}`;
        return this;
    }

    async stop() {
        this.server.closeAllConnections();
        await new Promise((resolve) => this.server.close(resolve));
    }

    /** `<env>/resources/<resource_id>`: the issuer and the authorization server clients use. */
    get issuer() {
        return `${this.url}/resources/${this.resourceId}`;
    }

    get metadataPath() {
        return `/.well-known/oauth-authorization-server/resources/${this.resourceId}`;
    }

    /** Claims of a valid access token; `overrides` replace or add claims. */
    claims(overrides = {}) {
        return {
            iss: this.issuer,
            aud: [this.resourceId],
            sub: 'user-e2e',
            client_id: 'client-e2e',
            iat: now(),
            exp: now() + 600,
            ...overrides,
        };
    }

    /** A token signed by the first served key (or `key`). */
    token(overrides = {}, key = this.served[0]) {
        return signJwt(key, this.claims(overrides));
    }

    /** Adds a new signing key and serves it next to the old ones, as a rotation does. */
    rotate(kid) {
        const key = signingKey(kid);
        this.keys.push(key);
        this.served = [...this.served, key];
        return key;
    }

    authorizationServerMetadata() {
        return {
            issuer: this.issuer,
            authorization_endpoint: `${this.url}/oauth/authorize`,
            token_endpoint: `${this.url}/oauth/token`,
            registration_endpoint: `${this.issuer}/register`,
            jwks_uri: `${this.url}/keys`,
            scopes_supported: this.scopes,
            response_types_supported: ['code'],
            grant_types_supported: ['authorization_code', 'refresh_token'],
            code_challenge_methods_supported: ['S256'],
            token_endpoint_auth_methods_supported: ['none', 'client_secret_post'],
        };
    }

    async handle(request, response) {
        const url = new URL(request.url, this.url);
        const json = (status, body, headers = {}) => {
            response.writeHead(status, { 'content-type': 'application/json', ...headers });
            response.end(JSON.stringify(body));
        };
        const route = `${request.method} ${url.pathname}`;

        if (route === 'GET /keys') {
            this.keyFetches.push(Date.now());
            return json(200, { keys: this.served.map((key) => key.jwk) });
        }
        if (route === `GET ${this.metadataPath}`) {
            return json(200, this.authorizationServerMetadata());
        }
        if (route === `POST /resources/${this.resourceId}/register`) {
            const metadata = JSON.parse(await readBody(request));
            if (!Array.isArray(metadata.redirect_uris) || metadata.redirect_uris.length === 0) {
                return json(400, { error: 'invalid_redirect_uri' });
            }
            const client = {
                ...metadata,
                client_id: `client-${randomBytes(6).toString('hex')}`,
                client_id_issued_at: now(),
                token_endpoint_auth_method: 'none',
            };
            this.clients.set(client.client_id, client);
            return json(201, client);
        }
        if (route === 'GET /oauth/authorize') {
            return this.authorize(url.searchParams, response, json);
        }
        if (route === 'POST /oauth/token') {
            const form = new URLSearchParams(await readBody(request));
            this.tokenRequests.push(form);
            return this.exchange(form, json);
        }
        return json(404, { error: 'not_found' });
    }

    /** The user signs in and consents: redirects back with a code. */
    authorize(params, response, json) {
        this.authorizations.push(params);
        const client = this.clients.get(params.get('client_id'));
        if (!client) return json(400, { error: 'invalid_client' });
        const redirectUri = params.get('redirect_uri');
        if (!client.redirect_uris.includes(redirectUri)) {
            return json(400, { error: 'invalid_request', error_description: 'unregistered redirect_uri' });
        }
        if (params.get('response_type') !== 'code' || params.get('code_challenge_method') !== 'S256') {
            return json(400, { error: 'invalid_request', error_description: 'code with PKCE S256 only' });
        }
        const requested = (params.get('scope') ?? '').split(' ').filter(Boolean);
        const granted = requested.filter((scope) => this.consent === null || this.consent.includes(scope));
        const code = randomBytes(16).toString('base64url');
        this.codes.set(code, {
            clientId: client.client_id,
            redirectUri,
            challenge: params.get('code_challenge'),
            resource: params.get('resource'),
            scopes: granted,
        });
        const location = new URL(redirectUri);
        location.searchParams.set('code', code);
        if (params.has('state')) location.searchParams.set('state', params.get('state'));
        response.writeHead(302, { location: location.href });
        response.end();
    }

    /** The token endpoint: an authorization code and its PKCE verifier for an access token. */
    exchange(form, json) {
        const refuse = (error, description) => json(400, { error, error_description: description });
        if (form.get('grant_type') !== 'authorization_code') {
            return refuse('unsupported_grant_type', 'authorization_code only');
        }
        const grant = this.codes.get(form.get('code'));
        this.codes.delete(form.get('code'));
        if (!grant) return refuse('invalid_grant', 'unknown or used code');
        if (form.get('client_id') !== grant.clientId || form.get('redirect_uri') !== grant.redirectUri) {
            return refuse('invalid_grant', 'client or redirect_uri differs');
        }
        const verifier = form.get('code_verifier') ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) {
            return refuse('invalid_grant', 'PKCE verification failed');
        }
        // RFC 8707: the token is for the resource the client named, plus the resource id,
        // as Scalekit issues them.
        const audience = [this.resourceId, ...(grant.resource ? [grant.resource] : [])];
        const accessToken = this.token({
            aud: audience,
            client_id: grant.clientId,
            // Scalekit's SDKs read the `scopes` array: use that spelling here.
            scopes: grant.scopes,
        });
        return json(200, {
            access_token: accessToken,
            token_type: 'Bearer',
            expires_in: 600,
            scope: grant.scopes.join(' '),
        });
    }
}

async function readBody(request) {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
}
