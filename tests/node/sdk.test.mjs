// End-to-end tests of the Tollgate gateway through the official OpenAI and Anthropic Node.js SDKs.
//
// The test starts the built gateway itself (`dotnet <dll> --demo ...`), creates a virtual key, talks to the
// built-in `mock` provider through both SDKs and finally checks that the ledger billed exactly those calls.
// Build the gateway first (Release), or point TOLLGATE_GATEWAY_DLL at the DLL. Run with `npm test`.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const GATEWAY_DLL = process.env.TOLLGATE_GATEWAY_DLL
    ?? join(REPO_ROOT, 'src', 'Tollgate.Gateway', 'bin', 'Release', 'net10.0', 'Tollgate.Gateway.dll');
const MASTER_KEY = 'tg-master-node-test';
const STARTUP_TIMEOUT_MS = 60_000;
const LEDGER_TIMEOUT_MS = 15_000;
const COST_TOLERANCE = 1e-12;

// The mock answers one word per visible output token, from this sentence, in order.
const WORDS = 'Tollgate meters every token that passes through the gateway and bills it exactly'.split(' ');
const answer = (tokens) => WORDS.slice(0, tokens).join(' ');
const EIGHT_WORDS = answer(8);

// Mock provider prices, USD per million tokens.
const PRICE = { input: 1.0, cached: 0.1, cacheWrite: 1.25, output: 2.0 };

/** What one provider call costs; `input` is all input tokens, cache reads and writes included. */
function costOf({ input, output, cached = 0, cacheWrite = 0 }) {
    return ((input - cached - cacheWrite) * PRICE.input
        + cached * PRICE.cached
        + cacheWrite * PRICE.cacheWrite
        + output * PRICE.output) / 1e6;
}

// ---------------------------------------------------------------------------------------------------------------
// Gateway process

const gateway = {
    process: null,
    baseUrl: '',
    dataDir: '',
    log: [],
    exited: null, // promise of { code, signal }
};
let anyTestFailed = false;

/** A TCP port nobody listens on right now. */
function freePort() {
    return new Promise((resolvePort, reject) => {
        const server = createServer();
        server.unref();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolvePort(port));
        });
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startGateway(port) {
    gateway.dataDir = mkdtempSync(join(tmpdir(), 'tollgate-node-'));
    gateway.baseUrl = `http://127.0.0.1:${port}`;
    const child = spawn('dotnet', [GATEWAY_DLL, '--demo', '--urls', gateway.baseUrl, '--data-dir', gateway.dataDir], {
        env: { ...process.env, TOLLGATE_MASTER_KEY: MASTER_KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const capture = (chunk) => gateway.log.push(chunk.toString());
    child.stdout.on('data', capture);
    child.stderr.on('data', capture);
    gateway.exited = new Promise((resolveExit) => {
        child.on('error', (err) => {
            gateway.log.push(`\n[test] could not start dotnet: ${err.message}\n`);
            resolveExit({ code: null, signal: null, error: err });
        });
        child.on('exit', (code, signal) => resolveExit({ code, signal }));
    });
    gateway.process = child;
}

/** Polls GET /healthz until it answers 200; fails early if the process dies. */
async function waitUntilHealthy() {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let processEnded = false;
    gateway.exited.then(() => { processEnded = true; });
    while (Date.now() < deadline) {
        if (processEnded) {
            const { code, signal, error } = await gateway.exited;
            throw error ?? new Error(`gateway exited during start-up (code ${code}, signal ${signal})`);
        }
        try {
            const res = await fetch(`${gateway.baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
            await res.arrayBuffer();
            if (res.status === 200) {
                return;
            }
        } catch {
            // Not listening yet.
        }
        await sleep(250);
    }
    throw new Error(`gateway did not answer 200 on /healthz within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

async function stopGateway() {
    const child = gateway.process;
    if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        let timer;
        const stopped = await Promise.race([
            gateway.exited,
            new Promise((r) => { timer = setTimeout(() => r(false), 15_000); }),
        ]);
        clearTimeout(timer);
        if (!stopped) {
            gateway.log.push('\n[test] gateway ignored SIGTERM for 15 s; killing it\n');
            child.kill('SIGKILL');
            await gateway.exited;
        }
    }
    if (gateway.dataDir) {
        rmSync(gateway.dataDir, { recursive: true, force: true });
    }
}

let gatewayLogPrinted = false;

function printGatewayLog(reason) {
    if (gatewayLogPrinted) {
        return;
    }
    gatewayLogPrinted = true;
    console.error(`----- gateway output (${reason}) -----\n${gateway.log.join('')}\n----- end of gateway output -----`);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers for the admin API

async function admin(method, path, body) {
    const res = await fetch(`${gateway.baseUrl}${path}`, {
        method,
        headers: {
            Authorization: `Bearer ${MASTER_KEY}`,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
        json = text ? JSON.parse(text) : undefined;
    } catch {
        json = undefined;
    }
    return { status: res.status, json, text };
}

async function createVirtualKey(name) {
    const res = await admin('POST', '/admin/keys', { name });
    assert.equal(res.status, 201, `POST /admin/keys: ${res.text}`);
    assert.equal(typeof res.json?.id, 'string', 'created key has an id');
    assert.match(res.json.key, /^tg-/, 'created key starts with tg-');
    return res.json;
}

// ---------------------------------------------------------------------------------------------------------------
// SDK clients and the ledger we expect

let virtualKey; // { id, key, ... } from POST /admin/keys

// No retries: every call below must reach the gateway exactly once, or the ledger sums would drift.
const CLIENT_OPTIONS = { maxRetries: 0, timeout: 30_000 };

const openai = (apiKey = virtualKey.key) =>
    new OpenAI({ apiKey, baseURL: `${gateway.baseUrl}/v1`, ...CLIENT_OPTIONS });
const anthropic = (apiKey = virtualKey.key) =>
    new Anthropic({ apiKey, baseURL: gateway.baseUrl, ...CLIENT_OPTIONS });

/** The ledger row the created key should end up with: the sum of every successful provider call it made. */
const expectedLedger = {
    requests: 0,
    input_tokens: 0,
    cached_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 0,
    reasoning_tokens: 0,
    cost: 0,
};

/** Notes one successful provider call made with the virtual key. Call it as soon as the call has completed. */
function billed({ input, output, cached = 0, cacheWrite = 0, reasoning = 0 }) {
    expectedLedger.requests += 1;
    expectedLedger.input_tokens += input;
    expectedLedger.cached_tokens += cached;
    expectedLedger.cache_write_tokens += cacheWrite;
    expectedLedger.output_tokens += output;
    expectedLedger.reasoning_tokens += reasoning;
    expectedLedger.cost += costOf({ input, output, cached, cacheWrite });
}

const DEFAULT_CALL = { input: 12, output: 8 };
const MESSAGES = [{ role: 'user', content: 'Say something about Tollgate.' }];

async function collect(stream) {
    const chunks = [];
    for await (const chunk of stream) {
        chunks.push(chunk);
    }
    return chunks;
}

const deltaText = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
const anthropicText = (message) => message.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

function assertClose(actual, expected, message) {
    assert.equal(typeof actual, 'number', `${message}: expected a number, got ${JSON.stringify(actual)}`);
    assert.ok(Math.abs(actual - expected) <= COST_TOLERANCE, `${message}: expected ${expected}, got ${actual}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Lifecycle

before(async () => {
    if (!existsSync(GATEWAY_DLL)) {
        throw new Error(`gateway DLL not found at ${GATEWAY_DLL}; build it in Release or set TOLLGATE_GATEWAY_DLL`);
    }
    try {
        startGateway(await freePort());
        await waitUntilHealthy();
        virtualKey = await createVirtualKey('node-sdk');
    } catch (err) {
        await stopGateway();
        printGatewayLog('start-up failed');
        throw err;
    }
}, { timeout: STARTUP_TIMEOUT_MS + 30_000 });

afterEach((t) => {
    // `passed` is missing on old Node 20 releases; then the log is simply always printed.
    if (!t.passed) {
        anyTestFailed = true;
    }
});

after(async () => {
    await stopGateway();
    if (anyTestFailed) {
        printGatewayLog('a test failed');
    }
});

// ---------------------------------------------------------------------------------------------------------------
// OpenAI SDK

test('openai: chat completion returns the mock answer, usage and cost headers', async () => {
    const { data, response } = await openai()
        .chat.completions.create({ model: 'mock/echo', messages: MESSAGES })
        .withResponse();
    billed(DEFAULT_CALL);

    assert.equal(data.choices[0].message.content, EIGHT_WORDS);
    assert.equal(data.usage.prompt_tokens, 12);
    assert.equal(data.usage.completion_tokens, 8);
    assert.equal(data.usage.total_tokens, 20);

    const cost = response.headers.get('x-tollgate-cost');
    assert.ok(cost, 'x-tollgate-cost header is present');
    assertClose(Number.parseFloat(cost), costOf(DEFAULT_CALL), 'x-tollgate-cost');
    assert.ok(response.headers.get('x-tollgate-request-id'), 'x-tollgate-request-id header is present');
});

test('openai: streaming without stream_options gets the text and no usage', async () => {
    const stream = await openai().chat.completions.create({ model: 'mock/echo', messages: MESSAGES, stream: true });
    const chunks = await collect(stream);
    billed(DEFAULT_CALL); // the gateway meters the stream even though the client did not ask for usage

    assert.ok(chunks.length > 0, 'received chunks');
    assert.equal(deltaText(chunks), EIGHT_WORDS);
    for (const [i, chunk] of chunks.entries()) {
        assert.equal('usage' in chunk, false, `chunk ${i} must not carry usage: ${JSON.stringify(chunk)}`);
        assert.equal(chunk.choices.length, 1, `chunk ${i} must have one choice (no usage-only chunk): ${JSON.stringify(chunk)}`);
    }
});

test('openai: streaming with include_usage ends with a usage chunk', async () => {
    const stream = await openai().chat.completions.create({
        model: 'mock/echo',
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    billed(DEFAULT_CALL);

    assert.equal(deltaText(chunks), EIGHT_WORDS);
    const { usage } = chunks.at(-1);
    assert.ok(usage, `last chunk carries usage: ${JSON.stringify(chunks.at(-1))}`);
    assert.equal(usage.prompt_tokens, 12);
    assert.equal(usage.completion_tokens, 8);
});

test('openai: max_tokens cuts the answer short with finish_reason length', async () => {
    const completion = await openai().chat.completions.create({ model: 'mock/echo', messages: MESSAGES, max_tokens: 3 });
    billed({ input: 12, output: 3 });

    assert.equal(completion.choices[0].message.content, answer(3));
    assert.equal(completion.choices[0].finish_reason, 'length');
    assert.equal(completion.usage.completion_tokens, 3);
});

test('openai: embeddings return one 8-dimensional vector per input', async () => {
    const result = await openai().embeddings.create({ model: 'mock/embed', input: ['a', 'b'] });
    billed({ input: 12, output: 0 });

    assert.equal(result.data.length, 2);
    for (const item of result.data) {
        assert.equal(item.embedding.length, 8);
        assert.ok(item.embedding.every(Number.isFinite), 'embedding values are numbers');
    }
    assert.equal(result.usage.prompt_tokens, 12);
});

// ---------------------------------------------------------------------------------------------------------------
// Anthropic SDK

test('anthropic: message reports cached input apart from input', async () => {
    const message = await anthropic().messages.create(
        { model: 'mock/echo', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'x-mock-prompt-tokens': '100', 'x-mock-cached-tokens': '40' } },
    );
    billed({ input: 100, cached: 40, output: 8 });

    assert.equal(anthropicText(message), EIGHT_WORDS);
    assert.equal(message.usage.input_tokens, 60);
    assert.equal(message.usage.cache_read_input_tokens, 40);
    assert.equal(message.usage.output_tokens, 8);
});

test('anthropic: streamed message assembles into the full answer', async () => {
    const stream = anthropic().messages.stream({
        model: 'mock/echo',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
    });
    const message = await stream.finalMessage();
    billed(DEFAULT_CALL);

    assert.equal(anthropicText(message), EIGHT_WORDS);
    assert.equal(message.usage.input_tokens, 12);
    assert.equal(message.usage.output_tokens, 8);
});

// ---------------------------------------------------------------------------------------------------------------
// Errors (never reach the provider, so never billed)

test('a wrong key is rejected in each SDK\'s own error shape', async () => {
    const wrongKey = 'tg-this-key-does-not-exist';

    await assert.rejects(
        openai(wrongKey).chat.completions.create({ model: 'mock/echo', messages: MESSAGES }),
        (err) => {
            assert.ok(err instanceof OpenAI.AuthenticationError, `expected AuthenticationError, got ${err}`);
            assert.equal(err.status, 401);
            assert.equal(err.error?.code, 'invalid_api_key');
            return true;
        },
    );

    await assert.rejects(
        anthropic(wrongKey).messages.create({ model: 'mock/echo', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
        (err) => {
            assert.ok(err instanceof Anthropic.AuthenticationError, `expected AuthenticationError, got ${err}`);
            assert.equal(err.status, 401);
            assert.equal(err.error?.error?.type, 'authentication_error');
            return true;
        },
    );
});

test('an unknown model is a 404 model_not_found', async () => {
    await assert.rejects(
        openai().chat.completions.create({ model: 'nope/model', messages: MESSAGES }),
        (err) => {
            assert.ok(err instanceof OpenAI.NotFoundError, `expected NotFoundError, got ${err}`);
            assert.equal(err.status, 404);
            assert.equal(err.error?.code, 'model_not_found');
            return true;
        },
    );
});

// ---------------------------------------------------------------------------------------------------------------
// Ledger (keep last: it checks the sums of every call above)

/** The usage row of one key, polled until it has seen `requests` calls (the ledger is written in the background). */
async function ledgerRowFor(keyId, requests) {
    const deadline = Date.now() + LEDGER_TIMEOUT_MS;
    for (;;) {
        const res = await admin('GET', '/admin/usage?group_by=key');
        assert.equal(res.status, 200, `GET /admin/usage: ${res.text}`);
        assert.ok(Array.isArray(res.json), `GET /admin/usage returns an array: ${res.text}`);
        const row = res.json.find((r) => r.key === keyId);
        if ((row && row.requests >= requests) || Date.now() > deadline) {
            return row;
        }
        await sleep(200);
    }
}

test('ledger: the key is billed exactly for the calls that reached the provider', async () => {
    assert.ok(expectedLedger.requests > 0, 'the tests above made billable calls');
    const row = await ledgerRowFor(virtualKey.id, expectedLedger.requests);
    assert.ok(row, `a usage row for key ${virtualKey.id}`);

    const { cost: expectedCost, ...expectedCounts } = expectedLedger;
    const actualCounts = Object.fromEntries(Object.keys(expectedCounts).map((name) => [name, row[name]]));
    assert.deepEqual(actualCounts, expectedCounts, `usage row: ${JSON.stringify(row)}`);
    assertClose(row.cost, expectedCost, 'ledger cost');
});
