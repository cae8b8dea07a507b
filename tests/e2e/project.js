// Generates a server with mcp-oauth-new, builds it with cargo and runs it on
// loopback. Every process started here is ended by `stop()`, and on exit.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Paths given by tests/e2e.rs, with defaults for `npm test` in a built checkout. */
export const paths = {
    generator: process.env.MCP_OAUTH_NEW_BIN ?? join(repo, 'target/debug/mcp-oauth-new'),
    cargo: process.env.CARGO ?? 'cargo',
    target: process.env.MCP_OAUTH_NEW_GENERATED_TARGET ?? join(repo, 'target/generated'),
    fixture: join(repo, 'tests/fixtures/readme.yaml'),
};

const BUILD_TIMEOUT_MS = 30 * 60 * 1000;
const GENERATE_TIMEOUT_MS = 60 * 1000;
const READY_TIMEOUT_MS = 20 * 1000;

const running = new Set();
// A SIGTERM (a timeout in tests/e2e.rs) still ends the server.
process.once('SIGTERM', () => process.exit(143));
process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
});

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

function run(command, args, options) {
    const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
    if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
    if (result.status !== 0) {
        throw new Error(
            `${command} ${args.join(' ')} exited with ${result.status ?? result.signal}\n${result.stdout}\n${result.stderr}`,
        );
    }
    return result;
}

/**
 * Generates the README's example server with its URLs on `http://127.0.0.1:<port>`,
 * and builds it in the shared target directory. Returns the project directory
 * and the server binary.
 */
export function generateAndBuild(port) {
    if (!existsSync(paths.generator)) {
        throw new Error(`${paths.generator} does not exist: run \`cargo build\` first (or \`cargo test --test e2e\`)`);
    }
    const origin = `http://127.0.0.1:${port}`;
    const answers = readFileSync(paths.fixture, 'utf8')
        .replaceAll('https://mcp.example.com', origin)
        .replace(/^port: \d+$/m, `port: ${port}`);
    const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth-e2e-'));
    const project = join(dir, 'todo-mcp');
    run(paths.generator, [project, '--answers', '-', '--vcs', 'none', '--quiet'], {
        input: answers,
        timeout: GENERATE_TIMEOUT_MS,
    });
    const env = { ...process.env, CARGO_TARGET_DIR: paths.target, CARGO_INCREMENTAL: '0', CARGO_TERM_COLOR: 'never' };
    delete env.RUSTFLAGS;
    run(paths.cargo, ['build', '--locked', '--bin', 'todo-mcp'], { cwd: project, env, timeout: BUILD_TIMEOUT_MS });
    return { dir, project, binary: join(paths.target, 'debug', 'todo-mcp'), origin };
}

/** A running generated server; `logs()` has everything it printed. */
export class RunningServer {
    constructor(binary, env) {
        this.output = [];
        // Only what the server needs: nothing from the developer's environment leaks in.
        this.child = spawn(binary, [], {
            env: { PATH: process.env.PATH, RUST_LOG: 'info', ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
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

    /** Waits for `/healthz` to answer 200, or fails with the server's output. */
    async ready(origin) {
        const deadline = Date.now() + READY_TIMEOUT_MS;
        let exit;
        this.exited.then((status) => (exit = status));
        while (Date.now() < deadline) {
            if (exit) throw new Error(`the server exited (${JSON.stringify(exit)}):\n${this.logs()}`);
            try {
                const response = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(1000) });
                if (response.status === 200) return;
            } catch {
                // Not listening yet.
            }
            await new Promise((done) => setTimeout(done, 100));
        }
        throw new Error(`the server was not ready after ${READY_TIMEOUT_MS} ms:\n${this.logs()}`);
    }

    /** SIGTERM (graceful shutdown), then SIGKILL if it does not stop within 5 s. */
    async stop() {
        if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
        this.child.kill('SIGTERM');
        const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
        const status = await this.exited;
        clearTimeout(timer);
        return status;
    }
}

export function removeDir(dir) {
    if (dir) rmSync(dir, { recursive: true, force: true });
}
