#!/usr/bin/env node
// $BROWSER for the MCP Inspector's CLI in tests: stands in for the person
// under `mcp-oauth-new dev --approve`, where the authorization endpoint
// redirects at once. It follows the redirects from the URL it is given to the
// client's loopback callback, on loopback only, and appends each address it
// opened (without its query: codes travel there) to $E2E_BROWSER_LOG.

import { appendFileSync } from 'node:fs';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const MAX_HOPS = 5;

let url = new URL(process.argv[2]);
for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname)) {
        console.error(`open-url.js: not a loopback http URL: ${url.origin}`);
        process.exit(1);
    }
    if (process.env.E2E_BROWSER_LOG) appendFileSync(process.env.E2E_BROWSER_LOG, `${url.origin}${url.pathname}\n`);
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    const location = response.headers.get('location');
    if (!location) process.exit(response.ok ? 0 : 1);
    url = new URL(location, url);
}
console.error(`open-url.js: more than ${MAX_HOPS} redirects`);
process.exit(1);
