// `mcp-oauth-new dev` as the tests run it: on the README's example project,
// on free loopback ports, its log (one line per stand-in request) kept to
// count requests by. Every process started here is ended by `stop()`, and on
// exit.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Paths given by tests/e2e.rs, with defaults for `npm test` in a built checkout. */
export const paths = {
    generator: process.env.MCP_OAUTH_NEW_BIN ?? join(repo, 'target/debug/mcp-oauth-new'),
    target: process.env.MCP_OAUTH_NEW_GENERATED_TARGET ?? join(repo, 'target/generated'),
    fixture: join(repo, 'tests/fixtures/readme.yaml'),
    /** Where the suite leaves what it recorded: the sign-in transcript, the consent page's screenshot. */
    output: process.env.MCP_OAUTH_NEW_E2E_OUTPUT ?? join(repo, 'target/tmp/e2e'),
};

/** The README example's resource id and scopes (tests/fixtures/readme.yaml). */
export const RESOURCE_ID = 'res_1234567890';
export const SCOPES = ['todo:read', 'todo:write'];

/** A cold run compiles the generated server's dependencies before dev is ready. */
export const START_TIMEOUT_MS = 35 * 60 * 1000;
const TOKEN_TIMEOUT_MS = 60 * 1000;
const STOP_GRACE_MS = 15 * 1000;

const running = new Set();
// A SIGTERM (a timeout in tests/e2e.rs) still ends what was started.
process.once('SIGTERM', () => process.exit(143));
process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
});

function killGroup(child, signal) {
    try {
        process.kill(-child.pid, signal);
    } catch {
        // Already gone.
    }
}

let failures = 0;

/** A test whose failure `failed()` reports, so `after` can print dev's log. */
export function step(name, fn, options = {}) {
    test(name, { timeout: 60_000, ...options }, async (t) => {
        try {
            await fn(t);
        } catch (error) {
            failures++;
            throw error;
        }
    });
}

export const failed = () => failures > 0;

/** The text of a successful call of one of the example's tools, which names the caller. */
export function toolText(result, tool) {
    assert.notEqual(result.isError, true, JSON.stringify(result));
    const text = result.content.find((item) => item.type === 'text')?.text ?? '';
    assert.match(text, new RegExp(`${tool} is not implemented yet`), text);
    return text;
}

export function outputPath(name) {
    mkdirSync(paths.output, { recursive: true });
    return join(paths.output, name);
}

/** A port that was free a moment ago, below the ephemeral range outgoing connections use. */
export async function freePort() {
    for (let attempt = 0; attempt < 50; attempt++) {
        const port = 20000 + Math.floor(Math.random() * 10000);
        const free = await new Promise((done) => {
            const probe = createServer();
            probe.once('error', () => done(false));
            probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
        });
        if (free) return port;
    }
    throw new Error('no free loopback port found in 50 attempts');
}

let generated;

/**
 * The README's example project, generated as a user would (its answers
 * untouched: `dev` moves its URLs to loopback). tests/e2e.rs generates one for
 * every test file; `npm test` alone gets one per file.
 */
export function project() {
    if (process.env.MCP_OAUTH_NEW_E2E_PROJECT) return process.env.MCP_OAUTH_NEW_E2E_PROJECT;
    if (generated) return generated;
    if (!existsSync(paths.generator)) {
        throw new Error(`${paths.generator} does not exist: run \`cargo build\` first (or \`cargo test --test e2e\`)`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth-e2e-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    generated = join(dir, 'todo-mcp');
    const result = spawnSync(paths.generator, [generated, '--answers', paths.fixture, '--vcs', 'none', '--quiet'], {
        encoding: 'utf8',
        timeout: 60_000,
    });
    if (result.status !== 0) throw new Error(`generating the example failed:\n${result.stdout}\n${result.stderr}`);
    return generated;
}

/**
 * A copy of the example project with no dev state, for a test that needs the
 * state directory to itself: every dev run on a project rewrites its
 * `.mcp-oauth/dev/answers.yaml`, and the other test files run theirs at once.
 */
export function projectCopy() {
    const dir = join(mkdtempSync(join(tmpdir(), 'mcp-oauth-e2e-own-')), 'todo-mcp');
    process.on('exit', () => rmSync(dirname(dir), { recursive: true, force: true }));
    cpSync(project(), dir, { recursive: true, filter: (source) => !source.includes('/.mcp-oauth/dev') });
    return dir;
}

/** The environment dev builds the project in: the shared target directory, as tests/common/mod.rs builds. */
function devEnv() {
    const env = {
        ...process.env,
        CARGO_TARGET_DIR: paths.target,
        CARGO_INCREMENTAL: '0',
        CARGO_PROFILE_DEV_DEBUG: '0',
        CARGO_TERM_COLOR: 'never',
        NO_COLOR: '1',
    };
    delete env.RUSTFLAGS;
    delete env.MCP_ALLOWED_ORIGINS;
    return env;
}

/** A running `mcp-oauth-new dev`: the stand-in, and unless `--auth-only` the project's server. */
export class Dev {
    /**
     * @param {object} options
     * @param {string[]} options.flags e.g. `['--approve']`, `['--auth-only']`, `['--token-ttl', '1']`
     */
    static async start({ flags = ['--approve'], dir = project() } = {}) {
        // Another process may take a port between the probe and dev's bind: try new ones.
        for (let attempt = 1; ; attempt++) {
            const dev = new Dev(await freePort(), await freePort(), flags, dir);
            try {
                await dev.ready();
                return dev;
            } catch (error) {
                await dev.stop();
                if (attempt === 3 || !/is not available/.test(dev.stderr)) throw error;
            }
        }
    }

    constructor(port, authPort, flags, dir) {
        this.project = dir;
        this.port = port;
        this.authPort = authPort;
        this.flags = flags;
        this.authOnly = flags.includes('--auth-only');
        this.origin = `http://127.0.0.1:${port}`;
        this.mcpUrl = `${this.origin}/mcp`;
        this.base = `http://127.0.0.1:${authPort}`;
        this.issuer = `${this.base}/resources/${RESOURCE_ID}`;
        this.stdout = '';
        this.stderr = '';
        this.child = spawn(
            paths.generator,
            ['dev', dir, '--port', String(port), '--auth-port', String(authPort), ...flags],
            { env: devEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
        );
        running.add(this.child);
        this.exited = new Promise((done) => {
            this.child.once('exit', (code, signal) => {
                running.delete(this.child);
                done({ code, signal });
            });
        });
        this.child.stdout.on('data', (chunk) => (this.stdout += chunk));
        this.child.stderr.on('data', (chunk) => (this.stderr += chunk));
    }

    /** What dev printed, for a failure's message. */
    logs() {
        return `--- dev ${this.flags.join(' ')}: stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
    }

    /** Waits for the server's `/readyz` (or, with `--auth-only`, the stand-in's keys) to answer 200. */
    async ready() {
        const url = this.authOnly ? `${this.base}/keys` : `${this.origin}/readyz`;
        const deadline = Date.now() + START_TIMEOUT_MS;
        let exit;
        this.exited.then((status) => (exit = status));
        while (Date.now() < deadline) {
            if (exit) throw new Error(`dev exited (${JSON.stringify(exit)}):\n${this.logs()}`);
            try {
                const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
                if (response.status === 200) return;
            } catch {
                // Still building, or not listening yet.
            }
            await new Promise((done) => setTimeout(done, 200));
        }
        throw new Error(`dev was not ready within ${START_TIMEOUT_MS} ms:\n${this.logs()}`);
    }

    /** How many stand-in requests dev logged as `"METHOD PATH" STATUS`. */
    requests(method, path, status) {
        const line = `"${method} ${path}" ${status ?? ''}`;
        return this.stderr.split('\n').filter((entry) => entry.startsWith('dev auth: ') && entry.includes(line)).length;
    }

    /** `mcp-oauth-new dev token` for this stand-in. */
    token({ scopes, sub, clientId, expiresIn } = {}) {
        const args = ['dev', 'token', this.project, '--auth-port', String(this.authPort)];
        if (scopes !== undefined) args.push('--scopes', scopes.join(','));
        if (sub) args.push('--sub', sub);
        if (clientId) args.push('--client-id', clientId);
        if (expiresIn) args.push('--expires-in', String(expiresIn));
        const result = spawnSync(paths.generator, args, { encoding: 'utf8', timeout: TOKEN_TIMEOUT_MS });
        if (result.status !== 0) throw new Error(`dev token failed (${result.status}):\n${result.stderr}`);
        return result.stdout.trim();
    }

    /** SIGTERM, as Ctrl-C would: dev stops the server and the stand-in. SIGKILL to the group if it hangs. */
    async stop() {
        if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
        this.child.kill('SIGTERM');
        const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), STOP_GRACE_MS);
        const status = await this.exited;
        clearTimeout(timer);
        return status;
    }
}

/** The project's server run directly, not by dev, e.g. against another authorization server. */
export class RunningServer {
    constructor(env) {
        this.output = [];
        this.origin = `http://127.0.0.1:${env.port}`;
        const resource = `${this.origin}/mcp`;
        // The variables dev sets (CONTRACT section 6), and nothing of the developer's environment.
        this.child = spawn(join(paths.target, 'debug', 'todo-mcp'), [], {
            env: {
                PATH: process.env.PATH,
                RUST_LOG: 'info',
                MCP_LISTEN_ADDR: `127.0.0.1:${env.port}`,
                MCP_SERVER_URL: this.origin,
                MCP_RESOURCE: resource,
                MCP_AUDIENCE: `${RESOURCE_ID},${resource}`,
                SCALEKIT_ENVIRONMENT_URL: env.environmentUrl,
                SCALEKIT_RESOURCE_ID: RESOURCE_ID,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: true,
        });
        running.add(this.child);
        this.exited = new Promise((done) => {
            this.child.once('exit', (code, signal) => {
                running.delete(this.child);
                done({ code, signal });
            });
        });
        this.child.stdout.on('data', (chunk) => this.output.push(chunk));
        this.child.stderr.on('data', (chunk) => this.output.push(chunk));
    }

    logs() {
        return Buffer.concat(this.output).toString('utf8');
    }

    async ready() {
        const deadline = Date.now() + 30_000;
        let exit;
        this.exited.then((status) => (exit = status));
        while (Date.now() < deadline) {
            if (exit) throw new Error(`the server exited (${JSON.stringify(exit)}):\n${this.logs()}`);
            try {
                const response = await fetch(`${this.origin}/readyz`, { signal: AbortSignal.timeout(1000) });
                if (response.status === 200) return;
            } catch {
                // Not listening yet.
            }
            await new Promise((done) => setTimeout(done, 100));
        }
        throw new Error(`the server was not ready within 30 s:\n${this.logs()}`);
    }

    async stop() {
        if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
        this.child.kill('SIGTERM');
        const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), 5000);
        const status = await this.exited;
        clearTimeout(timer);
        return status;
    }
}

/** dev's signing key for the project in `dir`, from its state directory (CONTRACT section 6). */
export function devSigningKey(kid, dir = project()) {
    const der = readFileSync(join(dir, '.mcp-oauth/dev/signing-key.p8'));
    return { kid, privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }) };
}
