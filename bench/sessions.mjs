// Opens and closes MCP sessions on a generated server in session mode, for
// bench/soak.sh, with Node's own fetch (no `npm ci`). Tokens are read from the
// stand-in's TOKENS_FILE (bench/standin.mjs), never taken from the command
// line, and never printed.
//
//   node bench/sessions.mjs open URL TOKENS_FILE SUBJECT COUNT > IDS
//   node bench/sessions.mjs close URL TOKENS_FILE SUBJECT < IDS
//
// open: COUNT sessions for the principal SUBJECT, all at once, each one
// `initialize`, `notifications/initialized` and a `tools/call list_todos`
// answered by the tool, as a client does; prints their ids, one per line.
// close: DELETE of every session id on standard input. Either exits 1, saying
// why, on the first answer that is not the one expected.

import { readFileSync } from 'node:fs';

// bench/soak.lua sends this version too: the server must answer with it.
const PROTOCOL_VERSION = '2025-11-25';

const [command, url, tokensFile, subject, count] = process.argv.slice(2);
if (!['open', 'close'].includes(command) || !subject || (command === 'open' && !(Number(count) > 0))) {
    console.error('usage: node bench/sessions.mjs open URL TOKENS_FILE SUBJECT COUNT | close URL TOKENS_FILE SUBJECT');
    process.exit(2);
}
const token = readFileSync(tokensFile, 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`read:${subject} `))
    ?.split(' ')[1];
if (!token) {
    console.error(`no token for ${subject} in ${tokensFile}`);
    process.exit(2);
}

function fail(what, response, body) {
    throw new Error(`${what} got ${response.status} ${response.statusText}: ${body.slice(0, 300)}`);
}

async function post(message, session) {
    const headers = {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': PROTOCOL_VERSION,
    };
    if (session) headers['mcp-session-id'] = session;
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(message) });
    return { response, body: await response.text() };
}

async function open() {
    const init = await post({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'bench-sessions', version: '1' } },
    });
    const session = init.response.headers.get('mcp-session-id');
    if (init.response.status !== 200 || !session) fail('initialize', init.response, init.body);
    if (!init.body.includes(`"protocolVersion":"${PROTOCOL_VERSION}"`)) {
        fail(`initialize (answered with another protocol version than ${PROTOCOL_VERSION})`, init.response, init.body);
    }
    const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
    if (initialized.response.status !== 202) fail('notifications/initialized', initialized.response, initialized.body);
    const call = await post(
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_todos', arguments: {} } },
        session,
    );
    if (call.response.status !== 200 || !call.body.includes('is not implemented yet')) {
        fail('tools/call in the session', call.response, call.body);
    }
    return session;
}

async function close(session) {
    const response = await fetch(url, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}`, 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL_VERSION },
    });
    const body = await response.text();
    if (response.status !== 202) fail('DELETE', response, body);
}

try {
    const started = performance.now();
    if (command === 'open') {
        const sessions = await Promise.all(Array.from({ length: Number(count) }, open));
        process.stdout.write(sessions.map((session) => `${session}\n`).join(''));
        console.error(`  opened ${sessions.length} sessions for ${subject} in ${Math.round(performance.now() - started)} ms`);
    } else {
        const sessions = readFileSync(0, 'utf8').split('\n').filter(Boolean);
        await Promise.all(sessions.map(close));
        console.error(`  closed ${sessions.length} sessions of ${subject} in ${Math.round(performance.now() - started)} ms`);
    }
} catch (error) {
    console.error(`error: ${subject}: ${error.message}`);
    process.exit(1);
}
