// The TypeScript SDK's OAuth client as an MCP host runs it: an in-memory
// `OAuthClientProvider` whose "browser" follows the authorization endpoint's
// redirect (dev --approve consents at once), and a `fetch` that records each
// request and answer of a sign-in, secrets left out.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { claims } from './jwt.js';

/** An in-memory OAuth client; `redirectToAuthorization` plays the person's browser. */
export class InMemoryOAuthProvider {
    /**
     * @param {object} options
     * @param {string} options.issuer the issuer the redirect's `iss` must name (RFC 9207)
     * @param {typeof fetch} [options.fetch] how the "browser" fetches, e.g. a transcript's
     */
    constructor({ issuer, fetch: browse = fetch }) {
        this.issuer = issuer;
        this.browse = browse;
        // Nothing listens there: the browser stops at the redirect and reads the code from it.
        this.redirectUrl = 'http://127.0.0.1:1/callback';
        this.clientMetadata = {
            client_name: 'mcp-oauth-new e2e',
            redirect_uris: [this.redirectUrl],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
        };
        /** Every authorization URL the SDK sent the person to. */
        this.authorizationUrls = [];
        this.codes = [];
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
    saveCodeVerifier(verifier) {
        this._verifier = verifier;
    }
    codeVerifier() {
        return this._verifier;
    }
    state() {
        this._state = randomBytes(16).toString('hex');
        return this._state;
    }
    // Kept as a host keeps it across the browser's round trip, so the SDK discovers once.
    saveDiscoveryState(state) {
        this._discovery = state;
    }
    discoveryState() {
        return this._discovery;
    }
    invalidateCredentials(scope) {
        if (scope === 'all' || scope === 'discovery') this._discovery = undefined;
        if (scope === 'all' || scope === 'client') this._client = undefined;
        if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
        if (scope === 'all' || scope === 'verifier') this._verifier = undefined;
    }

    /** Opens the authorization URL and keeps the code it is redirected back with. */
    async redirectToAuthorization(url) {
        this.authorizationUrls.push(new URL(url));
        const response = await this.browse(url, { redirect: 'manual' });
        assert.equal(response.status, 302, await response.text());
        const location = new URL(response.headers.get('location'));
        assert.equal(`${location.origin}${location.pathname}`, this.redirectUrl);
        assert.equal(location.searchParams.get('state'), this._state, 'the state comes back');
        assert.equal(location.searchParams.get('iss'), this.issuer, 'the issuer is named (RFC 9207)');
        assert.ok(location.searchParams.get('code'), location.href);
        this.codes.push(location.searchParams.get('code'));
    }

    /** The code of the last authorization, for `transport.finishAuth`. */
    lastCode() {
        return this.codes.at(-1);
    }
}

const SECRET_PARAMETERS = ['code', 'code_challenge', 'code_verifier', 'state', 'refresh_token', 'access_token'];

/** `url` with the values of secret parameters replaced by `…`. */
function redact(url) {
    const parsed = new URL(url);
    for (const name of SECRET_PARAMETERS) if (parsed.searchParams.has(name)) parsed.searchParams.set(name, '…');
    return decodeURIComponent(parsed.href);
}

function form(body) {
    const params = new URLSearchParams(body);
    for (const name of SECRET_PARAMETERS) if (params.has(name)) params.set(name, '…');
    return decodeURIComponent(params.toString());
}

/** What a JSON-RPC body asks for: `tools/call list_todos`. */
function rpc(body) {
    try {
        const message = JSON.parse(body);
        return [message.method, message.params?.name].filter(Boolean).join(' ');
    } catch {
        return '';
    }
}

/** The fields of an authorization endpoint's JSON answer worth reading in a transcript. */
function summary(json) {
    if (json.access_token) {
        const { access_token: token, refresh_token: refresh, ...rest } = json;
        const { iss, sub, aud, client_id: clientId, scope, iat, exp } = claims(token);
        return {
            ...rest,
            refresh_token: refresh ? '…' : undefined,
            access_token: { iss, sub, aud, client_id: clientId, scope, lifetime: `${exp - iat} s` },
        };
    }
    return json;
}

/** Each request of a sign-in and its answer, in order, as text a person reads. */
export class Transcript {
    constructor() {
        this.entries = [];
        this.fetch = this.fetch.bind(this);
    }

    async fetch(input, init = {}) {
        const url = String(input instanceof Request ? input.url : input);
        const method = init.method ?? 'GET';
        const headers = new Headers(init.headers);
        const lines = [`${method} ${redact(url)}`];
        if (headers.has('authorization')) lines.push(`  Authorization: ${headers.get('authorization').split(' ')[0]} …`);
        if (typeof init.body === 'string' && init.body.startsWith('{')) {
            const call = rpc(init.body);
            lines.push(call ? `  JSON-RPC ${call}` : `  ${init.body}`);
        } else if (init.body !== undefined) {
            lines.push(`  ${form(init.body)}`);
        }
        const response = await fetch(input, init);
        lines.push(`  -> ${response.status}`);
        if (response.headers.has('www-authenticate')) {
            lines.push(`  WWW-Authenticate: ${response.headers.get('www-authenticate')}`);
        }
        if (response.headers.has('location')) lines.push(`  Location: ${redact(response.headers.get('location'))}`);
        if (response.headers.get('content-type')?.startsWith('application/json') && !rpc(String(init.body ?? ''))) {
            lines.push(`  ${JSON.stringify(summary(await response.clone().json()))}`);
        }
        this.entries.push(lines.join('\n'));
        return response;
    }

    /** A line of the test's own, e.g. the tool's answer. */
    note(text) {
        this.entries.push(text);
    }

    text() {
        return this.entries.map((entry, index) => `${index + 1}. ${entry}`).join('\n\n');
    }
}
