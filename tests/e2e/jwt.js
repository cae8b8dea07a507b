// JSON Web Tokens for the tests that need a token no authorization server
// would issue: another audience, or a key being rotated in.

import { generateKeyPairSync, sign } from 'node:crypto';

const base64url = (data) => Buffer.from(data).toString('base64url');
const part = (jwt, index) => JSON.parse(Buffer.from(jwt.split('.')[index], 'base64url').toString('utf8'));

/** The header of a JWT. */
export const header = (jwt) => part(jwt, 0);
/** The claims of a JWT, unverified: what a test reads back from a token it was given. */
export const claims = (jwt) => part(jwt, 1);

/** A new RSA signing key known by its `kid`, with its public JWK. */
export function signingKey(kid) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
    return { kid, privateKey, jwk };
}

/** A compact JWS (RS256) of `claims`, signed by `key` (`{ kid, privateKey }`). */
export function signJwt(key, payload) {
    const head = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }));
    const body = base64url(JSON.stringify(payload));
    const signature = sign('sha256', Buffer.from(`${head}.${body}`), key.privateKey);
    return `${head}.${body}.${base64url(signature)}`;
}
