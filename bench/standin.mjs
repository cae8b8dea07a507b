// Runs the end-to-end suite's key stand-in (tests/e2e/standin.js) on its
// own, for the bench/ scripts: it serves the signing keys at /keys on
// 127.0.0.1 and prints one JSON line with its URL and three tokens it minted,
// then runs until SIGTERM or SIGINT. The stand-in uses only Node's standard
// library, so this needs no `npm ci`.
//
//   node bench/standin.mjs <resource_id> [TOKENS_FILE SUBJECT...]
//   -> {"url":"http://127.0.0.1:PORT","readToken":"...","noScopeToken":"...","forgedToken":"..."}
//
// With TOKENS_FILE (bench/soak.sh), it also writes there, one `name token` per
// line, a read token per SUBJECT (`read:SUBJECT`, each its own principal), a
// token without scopes (`no_scope`) and a forged one (`forged`), so that
// tokens stay off command lines. On SIGUSR1 it rotates: it serves a new key
// next to the old one and writes the same names, signed by the new key, to
// TOKENS_FILE.rotated.

import { renameSync, writeFileSync } from 'node:fs';

import { signJwt, signingKey } from '../tests/e2e/jwt.js';
import { KeyRotationStandIn } from '../tests/e2e/standin.js';

const [resourceId, tokensFile, ...subjects] = process.argv.slice(2);
if (!resourceId) {
    console.error('usage: node bench/standin.mjs <resource_id> [TOKENS_FILE SUBJECT...]');
    process.exit(2);
}

const standIn = await new KeyRotationStandIn({ resourceId }).start();
const now = () => Math.floor(Date.now() / 1000);
// Claims of a valid access token as Scalekit writes them; `overrides` replace or add claims.
const claims = (overrides) => ({
    iss: `${standIn.url}/resources/${resourceId}`,
    aud: [resourceId],
    sub: 'user-e2e',
    client_id: 'client-e2e',
    iat: now(),
    ...overrides,
});
// An hour: longer than any run, so no token expires under load.
const exp = Math.floor(Date.now() / 1000) + 3600;
// Scalekit's spelling (`scopes`, an array), as the stand-in's token endpoint writes it.
const readClaims = claims({ scopes: ['todo:read'], exp });
const servedKey = standIn.served[0];
// A token with `key`'s kid and `claims`, signed by a key /keys never serves:
// the key lookup succeeds and the signature check fails, so a server pays for
// one RS256 verification and answers 401. Only a signature below the served
// key's modulus gets that far: a larger one is refused before the RSA
// operation (RFC 8017 5.2.2), at a fifth of the cost, and about one in ten of
// another key's signatures is larger.
function forge(key, claims) {
    const modulus = BigInt(`0x${Buffer.from(key.jwk.n, 'base64url').toString('hex')}`);
    for (;;) {
        const token = signJwt(signingKey(key.kid), claims);
        const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
        if (BigInt(`0x${signature.toString('hex')}`) < modulus) return token;
    }
}
console.log(
    JSON.stringify({
        url: standIn.url,
        readToken: signJwt(servedKey, readClaims),
        // Valid signature, issuer and audience, but no scope: tools/call list_todos gets 403.
        noScopeToken: signJwt(servedKey, claims({ scopes: [], exp })),
        forgedToken: forge(servedKey, readClaims),
    }),
);

// The TOKENS_FILE lines for `key`. Written whole under another name and
// renamed, so a reader never sees half a file; readable by this user only.
function writeTokens(path, key) {
    const lines = subjects.map((sub) => `read:${sub} ${signJwt(key, claims({ sub, scopes: ['todo:read'], exp }))}`);
    lines.push(`no_scope ${signJwt(key, claims({ scopes: [], exp }))}`);
    lines.push(`forged ${forge(key, claims({ scopes: ['todo:read'], exp }))}`);
    writeFileSync(`${path}.tmp`, `${lines.join('\n')}\n`, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
}
if (tokensFile) {
    writeTokens(tokensFile, servedKey);
    process.once('SIGUSR1', () => writeTokens(`${tokensFile}.rotated`, standIn.rotate('standin-key-2')));
}

const stop = () => standIn.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
