// A real browser on dev's consent page: headless Chromium (Debian's
// `chromium`, which .ci/run installs; never a downloaded browser) driven by
// playwright-core, against `mcp-oauth-new dev --auth-only` without
// --approve. Approve with a scope unchecked, Deny, and a form posted without
// its form token. The page's screenshot is docs/consent.png.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

import { Dev, RESOURCE_ID, START_TIMEOUT_MS, failed, outputPath, step } from './dev.js';
import { claims } from './jwt.js';

const CHROMIUM = '/usr/bin/chromium';
/** No GPU, no sandbox (root in CI), and none of the background traffic a closed network refuses. */
const FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

let dev;
let profile;
let browser;
let client;
let redirectUri;
/** The client's loopback callback, as a native app listens: it records where the browser came back. */
let callback;
const arrivals = [];

before(
    async () => {
        assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)`);
        dev = await Dev.start({ flags: ['--auth-only'] });
        callback = createServer((request, response) => {
            const url = new URL(request.url, redirectUri);
            // Chromium asks for /favicon.ico too.
            if (url.pathname !== '/callback') return response.writeHead(404).end();
            arrivals.push(url);
            response.writeHead(200, { 'content-type': 'text/plain' }).end('back at the client');
        });
        await new Promise((done) => callback.listen(0, '127.0.0.1', done));
        redirectUri = `http://127.0.0.1:${callback.address().port}/callback`;
        const registration = await fetch(`${dev.base}/api/v1/resources/${RESOURCE_ID}/clients:register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
                client_name: 'Todo Desktop',
                redirect_uris: [redirectUri],
                token_endpoint_auth_method: 'none',
                grant_types: ['authorization_code', 'refresh_token'],
                response_types: ['code'],
            }),
        });
        assert.equal(registration.status, 201);
        client = await registration.json();
        profile = mkdtempSync(join(tmpdir(), 'mcp-oauth-e2e-chromium-'));
        browser = await chromium.launchPersistentContext(profile, {
            executablePath: CHROMIUM,
            headless: true,
            args: FLAGS,
            viewport: { width: 760, height: 640 },
        });
    },
    { timeout: START_TIMEOUT_MS },
);

after(async () => {
    await browser?.close();
    callback?.close();
    await dev?.stop();
    if (failed() && dev) console.error(dev.logs());
    if (profile) rmSync(profile, { recursive: true, force: true });
});

/** An authorization request for both scopes, with its PKCE verifier and state. */
function authorization() {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(8).toString('hex');
    const url = new URL(`${dev.base}/oauth/authorize`);
    url.search = new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: redirectUri,
        scope: 'todo:read todo:write',
        state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        resource: dev.mcpUrl,
    }).toString();
    return { url: url.href, verifier, state };
}

/** A new page, and the client's arrivals at its redirect URI from now on. */
async function consentPage() {
    arrivals.length = 0;
    return { page: await browser.newPage(), arrivals };
}

step('Chromium shows the consent page: the client, its redirect URI, the user, a checked box per scope', async () => {
    const { page } = await consentPage();
    const response = await page.goto(authorization().url);
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['x-frame-options'], 'DENY');
    assert.match(await page.title(), /^Allow Todo Desktop\?/);
    const text = await page.textContent('body');
    assert.ok(text.includes(client.client_id), text);
    assert.ok(text.includes(redirectUri), text);
    assert.ok(text.includes(dev.mcpUrl), text);
    assert.equal(await page.inputValue('#user_id'), 'dev-user');
    const scopes = page.locator('input[type=checkbox][name=scope]');
    assert.deepEqual(await scopes.evaluateAll((boxes) => boxes.map((box) => [box.value, box.checked])), [
        ['todo:read', true],
        ['todo:write', true],
    ]);
    await page.screenshot({ path: outputPath('consent.png'), fullPage: true });
    await page.close();
});

step('Approve with todo:write unchecked: the redirect carries a code whose token has todo:read only', async () => {
    const { page, arrivals } = await consentPage();
    const request = authorization();
    await page.goto(request.url);
    await page.fill('#user_id', 'alice');
    await page.uncheck('input[name=scope][value="todo:write"]');
    await Promise.all([page.waitForURL(`${redirectUri}**`), page.click('button[value=approve]')]);
    await page.close();

    assert.equal(arrivals.length, 1);
    const [back] = arrivals;
    assert.equal(back.searchParams.get('state'), request.state);
    assert.equal(back.searchParams.get('iss'), dev.issuer);
    assert.equal(back.searchParams.get('error'), null);
    const response = await fetch(`${dev.base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: back.searchParams.get('code'),
            code_verifier: request.verifier,
            redirect_uri: redirectUri,
            client_id: client.client_id,
            resource: dev.mcpUrl,
        }),
    });
    const tokens = await response.json();
    assert.equal(response.status, 200, JSON.stringify(tokens));
    assert.equal(tokens.scope, 'todo:read');
    const granted = claims(tokens.access_token);
    assert.equal(granted.scope, 'todo:read');
    assert.equal(granted.sub, 'alice', 'the user id typed on the page');
    assert.equal(granted.client_id, client.client_id);
});

step('Deny: the browser goes back to the redirect URI with error=access_denied and no code', async () => {
    const { page, arrivals } = await consentPage();
    const request = authorization();
    await page.goto(request.url);
    await Promise.all([page.waitForURL(`${redirectUri}**`), page.click('button[value=deny]')]);
    await page.close();

    assert.equal(arrivals.length, 1);
    const [back] = arrivals;
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('code'), null);
    assert.equal(back.searchParams.get('state'), request.state);
    assert.equal(back.searchParams.get('iss'), dev.issuer);
});

step('the form posted without its form token is refused on a page, and the client hears nothing', async () => {
    const { page, arrivals } = await consentPage();
    await page.goto(authorization().url);
    await page.evaluate(() => document.querySelector('input[name=form_token]').remove());
    const [response] = await Promise.all([
        page.waitForResponse((answer) => answer.request().method() === 'POST'),
        page.click('button[value=approve]'),
    ]);
    assert.equal(response.status(), 400);
    await page.waitForLoadState();
    assert.match(await page.title(), /^Sign-in refused/);
    assert.match(await page.textContent('body'), /without its form token/);
    await page.close();
    assert.deepEqual(arrivals, []);
});
