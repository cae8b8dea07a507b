// The README's example server as its operator meets it: `mcp-oauth-new check`
// against it under `mcp-oauth-new dev`, with tokens from `dev token`; and a
// signing key rotated in while it runs, which dev cannot show (it serves one
// key), against standin.js.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import {
    Dev,
    RESOURCE_ID,
    RunningServer,
    START_TIMEOUT_MS,
    devSigningKey,
    failed,
    freePort,
    outputPath,
    paths,
    projectCopy,
    step,
    toolText,
} from './dev.js';
import { claims, header, signJwt } from './jwt.js';
import { KeyRotationStandIn } from './standin.js';

/** The generated server refetches its keys at most this often (CONTRACT section 3). */
const KEY_REFRESH_INTERVAL_MS = 30_000;
const CHECK_TIMEOUT_MS = 60_000;

let dev;
let rotation;
let server;
const clients = [];

before(
    async () => {
        // Its own copy: the answers-* rows read the answers.yaml this dev wrote.
        dev = await Dev.start({ flags: ['--approve'], dir: projectCopy() });
        // dev built the server: run the same binary against a stand-in that rotates keys.
        const port = await freePort();
        rotation = await new KeyRotationStandIn({
            resourceId: RESOURCE_ID,
            resource: `http://127.0.0.1:${port}/mcp`,
        }).start();
        server = new RunningServer({ port, environmentUrl: rotation.url });
        await server.ready();
    },
    { timeout: START_TIMEOUT_MS },
);

after(async () => {
    for (const client of clients) await client.close().catch(() => {});
    await Promise.all([dev?.stop(), server?.stop()]);
    await rotation?.stop();
    if (failed()) console.error(`${dev?.logs()}\n--- the server run against standin.js ---\n${server?.logs()}`);
});

/** `mcp-oauth-new check` with `args`; its output and exit code. */
async function run(args) {
    // Not spawnSync: a check may talk to standin.js, which runs in this process.
    const child = spawn(paths.generator, ['check', ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH, NO_COLOR: '1' },
    });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk) => (output.stdout += chunk));
    child.stderr.on('data', (chunk) => (output.stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHECK_TIMEOUT_MS);
    const code = await new Promise((done) => child.once('close', done));
    clearTimeout(timer);
    return { code, output };
}

/** `mcp-oauth-new check --json` with `args`; its report and exit code. */
async function check(args) {
    const { code, output } = await run([...args, '--json']);
    assert.doesNotThrow(() => JSON.parse(output.stdout), `${output.stdout}\n${output.stderr}`);
    return { report: JSON.parse(output.stdout), code, output };
}

const status = (report) => Object.fromEntries(report.checks.map((row) => [row.id, row.status]));
const reason = (report, id) => report.checks.find((row) => row.id === id).reason;

step('`check <dev URL> --token $(dev token)`, as dev prints it, passes every row it can run, https warns', async () => {
    const { report, code, output } = await check([dev.mcpUrl, '--token', dev.token()]);
    assert.equal(code, 0, output.stderr);
    const rows = status(report);
    assert.equal(rows.https, 'warn', 'plain http on loopback is a warning');
    const notRun = report.checks.filter((row) => row.status === 'skip').map((row) => row.id);
    // Each needs a flag of its own: the next test gives them.
    for (const id of notRun) assert.match(id, /^(mcp-cors|insufficient-scope|wrong-audience-refused|answers-.*)$/);
    for (const row of report.checks) {
        if (row.id !== 'https' && !notRun.includes(row.id)) assert.equal(row.status, 'pass', JSON.stringify(row));
    }
});

step('`check` against dev with every token passes every row but https, which warns', async () => {
    const token = dev.token();
    // A token dev's own key signed for another audience, as no dev command would issue.
    const wrongAudience = signJwt(devSigningKey(header(token).kid, dev.project), {
        ...claims(token),
        aud: ['res_someone_else', 'https://elsewhere.example/mcp'],
    });
    const args = [
        dev.mcpUrl,
        '--token', token,
        '--wrong-audience-token', wrongAudience,
        // Valid, without the scope `create_todo` needs: the step-up row.
        '--limited-token', dev.token({ scopes: ['todo:read'] }),
        '--tool', 'create_todo',
        '--tool-arguments', JSON.stringify({ title: 'Buy milk' }),
        // The server's own origin, which it allows as a browser origin.
        '--origin', dev.origin,
        // The answers dev runs with (CONTRACT section 5): the answers-* rows.
        '--answers', join(dev.project, '.mcp-oauth/dev/answers.yaml'),
    ];
    const { report, code, output } = await check(args);
    // As a person reads it, for the record.
    const table = await run(args);
    assert.equal(table.code, 0, table.output.stderr);
    writeFileSync(outputPath('check-report.txt'), table.output.stdout);
    assert.deepEqual(report.checks.filter((row) => row.status === 'fail'), [], output.stdout);
    assert.equal(code, 0, output.stderr);
    assert.equal(report.ok, true);
    const rows = status(report);
    assert.equal(rows.https, 'warn', 'plain http on loopback is a warning');
    assert.match(reason(report, 'protocol-versions'), /^speaks 2026-07-28 \(server\/discover\), 2025-11-25, 2025-06-18, 2025-03-26$/);
    assert.match(reason(report, 'insufficient-scope'), /scope="todo:write"/);
    assert.match(reason(report, 'wrong-audience-refused'), /401/);
    const expected = [
        'metadata-path-inserted',
        'metadata-root',
        'metadata-fields',
        'metadata-resource',
        'metadata-cors',
        'authorization-server-metadata',
        'pkce-s256',
        'public-client-registration',
        'unauthenticated-401',
        'challenge-resource-metadata',
        'challenge-scope',
        'no-error-without-credentials',
        'mcp-cors',
        'authenticated-initialize',
        'authenticated-tools-list',
        'protocol-versions',
        'insufficient-scope',
        'wrong-audience-refused',
    ];
    const answers = [
        'answers-resource',
        'answers-authorization-server',
        'answers-resource-known',
        'answers-scopes-defined',
        'answers-scopes-advertised',
        'answers-public-clients',
        'answers-keys',
        'answers-audience',
    ];
    for (const id of [...expected, ...answers]) {
        assert.equal(rows[id], 'pass', `${id}: ${JSON.stringify(report.checks.find((row) => row.id === id))}`);
    }
    assert.deepEqual(Object.keys(rows).sort(), ['https', ...expected, ...answers].sort());
});

/** An SDK client connected to the server run against standin.js. */
async function connect(token) {
    const transport = new StreamableHTTPClientTransport(new URL(`${server.origin}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: 'mcp-oauth-new-e2e', version: '1.0.0' });
    clients.push(client);
    await client.connect(transport);
    return client;
}

step(
    'a new signing key served next to the old one is picked up without a restart, and the old one keeps working',
    async () => {
        const client = await connect(rotation.token('todo:read'));
        toolText(await client.callTool({ name: 'list_todos', arguments: {} }), 'list_todos');
        assert.ok(rotation.keyFetches.length > 0, 'the server fetched the keys');
        const rotated = rotation.rotate('rotation-key-2');
        // The server refetches on an unknown kid at most once per interval: wait it out.
        const wait = rotation.keyFetches.at(-1) + KEY_REFRESH_INTERVAL_MS + 500 - Date.now();
        if (wait > 0) await new Promise((done) => setTimeout(done, wait));
        const fetches = rotation.keyFetches.length;

        const renewed = await connect(rotation.token('todo:read', rotated));
        toolText(await renewed.callTool({ name: 'list_todos', arguments: {} }), 'list_todos');
        assert.equal(rotation.keyFetches.length, fetches + 1, 'one refetch for the new kid');
        // Tokens signed by the old key keep working while it is served.
        const old = await connect(rotation.token('todo:read'));
        await old.listTools();
        assert.equal(rotation.keyFetches.length, fetches + 1);
    },
    { timeout: KEY_REFRESH_INTERVAL_MS + 60_000 },
);
