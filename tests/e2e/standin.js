// The one thing `mcp-oauth-new dev` cannot stand in for: an authorization
// server in the middle of a key rotation, serving its old signing key and a
// new one side by side (dev serves exactly one key, the one it keeps for the
// project). On 127.0.0.1 only, it serves Scalekit's `/keys` and mints tokens
// with Scalekit's claims; everything else about signing in is dev's.

import { createServer } from 'node:http';

import { signJwt, signingKey } from './jwt.js';

const now = () => Math.floor(Date.now() / 1000);

export class KeyRotationStandIn {
    constructor({ resourceId, resource }) {
        this.resourceId = resourceId;
        this.resource = resource;
        /** The keys `/keys` serves; `rotate()` adds one. */
        this.served = [signingKey('rotation-key-1')];
        /** When `/keys` was fetched (ms since the epoch). */
        this.keyFetches = [];
        this.server = createServer((request, response) => {
            if (request.method === 'GET' && request.url === '/keys') {
                this.keyFetches.push(Date.now());
                response.writeHead(200, { 'content-type': 'application/json' });
                response.end(JSON.stringify({ keys: this.served.map((key) => key.jwk) }));
            } else {
                response.writeHead(404).end();
            }
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

    /** A token for `scope`, signed by `key` (the first served key by default). */
    token(scope, key = this.served[0]) {
        return signJwt(key, {
            iss: `${this.url}/resources/${this.resourceId}`,
            sub: 'user-e2e',
            aud: [this.resourceId, this.resource],
            client_id: 'client-e2e',
            scope,
            iat: now(),
            nbf: now(),
            exp: now() + 600,
        });
    }

    /** Adds a new signing key and serves it next to the old one, as a rotation does. */
    rotate(kid) {
        const key = signingKey(kid);
        this.served = [...this.served, key];
        return key;
    }
}
