// The memory attacks of bench/memory.sh, against one running server, with
// Node's standard library only. Prints one JSON line: the server's resident
// set (VmRSS, sampled every 20 ms from /proc/PID/status) before and at its
// peak (the larger of the samples and VmHWM, so reset VmHWM before: write 5
// to /proc/PID/clear_refs), and what each kind of connection got back.
//
//   node bench/memory.mjs SCENARIO PORT SERVER_PID TOKEN [COUNT]
//
// SCENARIO is one of (COUNT, for one scenario but all, replaces its number
// of connections):
//   headers  400 connections each sending 300 KB of headers, never finished;
//   bodies   150 authenticated POSTs declaring 1,000,000 bytes and sending
//            999,999 of them, never the last;
//   parsing  20 authenticated POSTs of a 1 MiB JSON-RPC message holding
//            about 500,000 tiny values, sent whole;
//   small    1000 authenticated POSTs of a 16 KiB message holding 8,000
//            tiny values (under both the server's small-body size and its
//            value limit, so each is read and parsed), sent whole;
//   all      headers, bodies and parsing as above, and small with 450
//            connections: 1,020 in all, just under the default connection
//            cap of 1,024.
// The connections are opened as fast as the server takes them and held for
// HOLD_MS (4 s) after the last byte is written, within the server's 10 s
// header deadline, so every kind is held at the same time; then all are closed.

import net from 'node:net';
import { readFileSync } from 'node:fs';

const [scenario, portText, pidText, token, countText] = process.argv.slice(2);
const count = (normal) => (countText && scenario !== 'all' ? Number(countText) : normal);
const port = Number(portText);
const HOLD_MS = 4000;

const kib = (field) =>
    Number(readFileSync(`/proc/${pidText}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))[1]);

function header(method, path, lines, length) {
    const all = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...lines];
    if (length !== undefined) all.push(`Content-Length: ${length}`);
    return `${all.join('\r\n')}\r\n`;
}
const mcpLines = [
    `Authorization: Bearer ${token}`,
    'Content-Type: application/json',
    'Accept: application/json, text/event-stream',
    'MCP-Protocol-Version: 2025-06-18',
];

// One connection of `kind`: writes `chunks` in order, then holds it. Its
// outcome, read at the end, is the status line the server answered, else
// how the connection ended, else `held`.
function open(kind, chunks) {
    return new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.outcome = 'held';
        let answer = '';
        socket.on('data', (data) => {
            answer += data.toString('latin1');
            if (socket.outcome === 'held' && answer.includes('\r\n')) {
                socket.outcome = answer.split(' ').slice(0, 2).join(' ');
            }
        });
        socket.on('error', (error) => {
            if (socket.outcome === 'held') socket.outcome = error.code ?? 'error';
            resolve();
        });
        socket.on('close', () => {
            if (socket.outcome === 'held') socket.outcome = 'closed without an answer';
            resolve();
        });
        socket.on('connect', async () => {
            for (const chunk of chunks) {
                if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r).once('close', r));
                if (socket.destroyed) return;
            }
            resolve();
        });
        sockets[kind].push(socket);
    });
}
const sockets = { headers: [], bodies: [], parsing: [], small: [] };

function headers() {
    // 100 headers of 3,000 bytes: 300 KB, the blank line never sent.
    const pad = `X-Pad: ${'a'.repeat(3000)}\r\n`;
    const chunks = [header('GET', '/healthz', []), ...Array(100).fill(pad)];
    return Array.from({ length: count(400) }, () => open('headers', chunks));
}

function bodies() {
    const prefix = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_todos","arguments":{"pad":"';
    const body = prefix + 'x'.repeat(999_999 - prefix.length);
    const chunks = [`${header('POST', '/mcp', mcpLines, 1_000_000)}\r\n`, body];
    return Array.from({ length: count(150) }, () => open('bodies', chunks));
}

function parsing() {
    const prefix = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_todos","arguments":{"pad":[0';
    const suffix = ']}}}';
    const values = Math.floor((1024 * 1024 - prefix.length - suffix.length) / 2);
    const body = prefix + ',0'.repeat(values) + suffix;
    const chunks = [`${header('POST', '/mcp', mcpLines, body.length)}\r\n`, body];
    return Array.from({ length: count(20) }, () => open('parsing', chunks));
}

// 16,000 bytes of `,0`: 8,000 values, a message within both limits.
function small() {
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_todos","arguments":{"pad":[0${',0'.repeat(7_999)}]}}}`;
    const chunks = [`${header('POST', '/mcp', mcpLines, body.length)}\r\n`, body];
    return Array.from({ length: count(scenario === 'all' ? 450 : 1000) }, () => open('small', chunks));
}

const kinds = { headers, bodies, parsing, small };
const chosen = scenario === 'all' ? Object.keys(kinds) : [scenario];
if (!chosen.every((kind) => kind in kinds)) {
    console.error('usage: node bench/memory.mjs headers|bodies|parsing|all|small PORT SERVER_PID TOKEN [COUNT]');
    process.exit(2);
}

const before = kib('VmRSS');
let peak = before;
const sampler = setInterval(() => {
    peak = Math.max(peak, kib('VmRSS'));
}, 20);
await Promise.all(chosen.flatMap((kind) => kinds[kind]()));
await new Promise((r) => setTimeout(r, HOLD_MS));
peak = Math.max(peak, kib('VmRSS'), kib('VmHWM'));
clearInterval(sampler);
const outcomes = {};
for (const kind of chosen) {
    outcomes[kind] = {};
    for (const socket of sockets[kind]) {
        outcomes[kind][socket.outcome] = (outcomes[kind][socket.outcome] ?? 0) + 1;
        socket.destroy();
    }
}
console.log(JSON.stringify({ scenario, rss_before_mib: +(before / 1024).toFixed(1), rss_peak_mib: +(peak / 1024).toFixed(1), outcomes }));
