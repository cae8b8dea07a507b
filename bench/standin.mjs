// Runs the end-to-end suite's Scalekit stand-in (tests/e2e/standin.js) on its
// own, for bench/run.sh and bench/compare.sh: it serves the signing keys at
// /keys on 127.0.0.1 and prints one JSON line with its URL and three tokens it
// minted, then runs until SIGTERM or SIGINT. The stand-in uses only Node's
// standard library, so this needs no `npm ci`.
//
//   node bench/standin.mjs <resource_id>
//   -> {"url":"http://127.0.0.1:PORT","readToken":"...","noScopeToken":"...","forgedToken":"..."}

import { ScalekitStandIn, signJwt, signingKey } from '../tests/e2e/standin.js';

const resourceId = process.argv[2];
if (!resourceId) {
    console.error('usage: node bench/standin.mjs <resource_id>');
    process.exit(2);
}

const standIn = await new ScalekitStandIn({ resourceId, scopes: ['todo:read', 'todo:write'] }).start();
// An hour: longer than any run, so no token expires under load.
const exp = Math.floor(Date.now() / 1000) + 3600;
// Scalekit's spelling (`scopes`, an array), as the stand-in's token endpoint writes it.
const readClaims = standIn.claims({ scopes: ['todo:read'], exp });
const servedKey = standIn.served[0];
// readToken's header (same kid) and claims, signed by a key /keys never serves:
// the key lookup succeeds and the signature check fails, so a server pays for
// one RS256 verification and answers 401. Only a signature below the served
// key's modulus gets that far: a larger one is refused before the RSA
// operation (RFC 8017 5.2.2), at a fifth of the cost, and about one in ten of
// another key's signatures is larger.
function forge(claims) {
    const modulus = BigInt(`0x${Buffer.from(servedKey.jwk.n, 'base64url').toString('hex')}`);
    for (;;) {
        const token = signJwt(signingKey(servedKey.kid), claims);
        const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
        if (BigInt(`0x${signature.toString('hex')}`) < modulus) return token;
    }
}
console.log(
    JSON.stringify({
        url: standIn.url,
        readToken: signJwt(servedKey, readClaims),
        // Valid signature, issuer and audience, but no scope: tools/call list_todos gets 403.
        noScopeToken: standIn.token({ scopes: [], exp }),
        forgedToken: forge(readClaims),
    }),
);

const stop = () => standIn.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
