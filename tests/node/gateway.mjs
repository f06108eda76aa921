// Shared helpers of the Node.js end-to-end tests: start and stop the built gateway, call its admin API, and check
// the ledger. Every test file starts its own gateway process, with its own temporary data directory and port.
//
// The gateway is started as `dotnet <dll> --demo ...`: build it first (Release), or point TOLLGATE_GATEWAY_DLL at
// the DLL.

import { after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const GATEWAY_DLL = process.env.TOLLGATE_GATEWAY_DLL
    ?? join(REPO_ROOT, 'src', 'Tollgate.Gateway', 'bin', 'Release', 'net10.0', 'Tollgate.Gateway.dll');
export const MASTER_KEY = 'tg-master-node-test';
export const STARTUP_TIMEOUT_MS = 60_000;
export const LEDGER_TIMEOUT_MS = 15_000;
export const COST_TOLERANCE = 1e-12;

// ---------------------------------------------------------------------------------------------------------------
// What the mock provider answers, and what it costs

// The mock answers one word per visible output token, from this sentence, in order.
export const WORDS = 'Tollgate meters every token that passes through the gateway and bills it exactly'.split(' ');
export const answer = (tokens) => WORDS.slice(0, tokens).join(' ');
export const EIGHT_WORDS = answer(8);

// Mock provider prices, USD per million tokens.
export const PRICE = { input: 1.0, cached: 0.1, cacheWrite: 1.25, output: 2.0 };

/** What one provider call costs; `input` is all input tokens, cache reads and writes included. */
export function costOf({ input, output, cached = 0, cacheWrite = 0 }) {
    return ((input - cached - cacheWrite) * PRICE.input
        + cached * PRICE.cached
        + cacheWrite * PRICE.cacheWrite
        + output * PRICE.output) / 1e6;
}

export function assertClose(actual, expected, message) {
    assert.equal(typeof actual, 'number', `${message}: expected a number, got ${JSON.stringify(actual)}`);
    assert.ok(Math.abs(actual - expected) <= COST_TOLERANCE, `${message}: expected ${expected}, got ${actual}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// Gateway process

/** A TCP port nobody listens on right now. */
export function freePort() {
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

/**
 * Starts the built gateway with `--demo` on a free port and a fresh data directory, and waits until GET /healthz
 * answers 200; `env` adds environment variables (settings such as TOLLGATE_UPSTREAM_IDLE_TIMEOUT_SECONDS). Returns `{ baseUrl, masterKey, dataDir, stop(), printLog(reason) }`. If start-up fails, the process
 * is stopped, its output printed, and the promise rejects.
 */
export async function startGateway({ port, masterKey = MASTER_KEY, env = {} } = {}) {
    if (!existsSync(GATEWAY_DLL)) {
        throw new Error(`gateway DLL not found at ${GATEWAY_DLL}; build it in Release or set TOLLGATE_GATEWAY_DLL`);
    }

    const log = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-node-'));
    const baseUrl = `http://127.0.0.1:${port ?? await freePort()}`;
    const child = spawn('dotnet', [GATEWAY_DLL, '--demo', '--urls', baseUrl, '--data-dir', dataDir], {
        env: { ...process.env, ...env, TOLLGATE_MASTER_KEY: masterKey },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const capture = (chunk) => log.push(chunk.toString());
    child.stdout.on('data', capture);
    child.stderr.on('data', capture);
    const exited = new Promise((resolveExit) => {
        child.on('error', (err) => {
            log.push(`\n[test] could not start dotnet: ${err.message}\n`);
            resolveExit({ code: null, signal: null, error: err });
        });
        child.on('exit', (code, signal) => resolveExit({ code, signal }));
    });

    // Should the test process end without running its `after` hooks, take the gateway down with it.
    const killOnExit = () => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL');
        }
    };
    process.on('exit', killOnExit);

    let stopped = null;
    let logPrinted = false;
    const gw = {
        baseUrl,
        masterKey,
        dataDir,
        log,

        /** Stops the process (SIGTERM, then SIGKILL after 15 s) and removes the data directory. Idempotent. */
        stop() {
            stopped ??= (async () => {
                if (child.exitCode === null && child.signalCode === null) {
                    child.kill('SIGTERM');
                    let timer;
                    const ended = await Promise.race([
                        exited,
                        new Promise((r) => { timer = setTimeout(() => r(false), 15_000); }),
                    ]);
                    clearTimeout(timer);
                    if (!ended) {
                        log.push('\n[test] gateway ignored SIGTERM for 15 s; killing it\n');
                        child.kill('SIGKILL');
                        await exited;
                    }
                }
                process.off('exit', killOnExit);
                rmSync(dataDir, { recursive: true, force: true });
            })();
            return stopped;
        },

        /** Prints everything the gateway wrote to stdout and stderr, once. */
        printLog(reason) {
            if (logPrinted) {
                return;
            }
            logPrinted = true;
            console.error(`----- gateway output (${reason}) -----\n${log.join('')}\n----- end of gateway output -----`);
        },
    };

    try {
        await waitUntilHealthy(baseUrl, exited);
    } catch (err) {
        await gw.stop();
        gw.printLog('start-up failed');
        throw err;
    }
    return gw;
}

/** Polls GET /healthz until it answers 200; fails early if the process dies. */
async function waitUntilHealthy(baseUrl, exited) {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let processEnded = false;
    exited.then(() => { processEnded = true; });
    while (Date.now() < deadline) {
        if (processEnded) {
            const { code, signal, error } = await exited;
            throw error ?? new Error(`gateway exited during start-up (code ${code}, signal ${signal})`);
        }
        try {
            const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
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

/**
 * Registers the node:test hooks of a test file that needs a gateway: `before` starts it and runs `setup(gw)`
 * (create keys there), with `options` as for startGateway; `after` stops it and, if any test failed, prints its output. Returns a handle whose `gw`
 * property is set once the gateway is up.
 */
export function useGateway(setup = async () => {}, options = {}) {
    const handle = { gw: undefined };
    let anyTestFailed = false;

    before(async () => {
        const gw = await startGateway(options); // stops the process and prints its output itself if start-up fails
        try {
            await setup(gw);
        } catch (err) {
            await gw.stop();
            gw.printLog('start-up failed');
            throw err;
        }
        handle.gw = gw;
    }, { timeout: STARTUP_TIMEOUT_MS + 30_000 });

    afterEach((t) => {
        // `passed` is missing on old Node 20 releases; then the log is simply always printed.
        if (!t.passed) {
            anyTestFailed = true;
        }
    });

    after(async () => {
        if (!handle.gw) {
            return;
        }
        await handle.gw.stop();
        if (anyTestFailed) {
            handle.gw.printLog('a test failed');
        }
    });

    return handle;
}

// ---------------------------------------------------------------------------------------------------------------
// Admin API

/** One admin API call with the master key; returns `{ status, json, text }` (json undefined if the body is not JSON). */
export async function adminRequest(gw, method, path, body) {
    const res = await fetch(`${gw.baseUrl}${path}`, {
        method,
        headers: {
            Authorization: `Bearer ${gw.masterKey}`,
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

export const adminGet = (gw, path) => adminRequest(gw, 'GET', path);

/** Creates a virtual key (POST /admin/keys, expects 201) and returns it: `{ id, key, ... }`. */
export async function createKey(gw, body) {
    const res = await adminRequest(gw, 'POST', '/admin/keys', body);
    assert.equal(res.status, 201, `POST /admin/keys: ${res.text}`);
    assert.equal(typeof res.json?.id, 'string', 'created key has an id');
    assert.match(res.json.key, /^tg-/, 'created key starts with tg-');
    return res.json;
}

// ---------------------------------------------------------------------------------------------------------------
// Ledger

/** The rows of GET /admin/usage?group_by=key. */
export async function usageByKey(gw) {
    const res = await adminGet(gw, '/admin/usage?group_by=key');
    assert.equal(res.status, 200, `GET /admin/usage: ${res.text}`);
    assert.ok(Array.isArray(res.json), `GET /admin/usage returns an array: ${res.text}`);
    return res.json;
}

/**
 * The usage row of one key, polled until it has seen `requests` calls (the ledger is written in the background)
 * or `timeoutMs` has passed; then returns whatever row there is (undefined if none).
 */
export async function waitForUsage(gw, keyId, requests, timeoutMs = LEDGER_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const row = (await usageByKey(gw)).find((r) => r.key === keyId);
        if ((row && row.requests >= requests) || Date.now() > deadline) {
            return row;
        }
        await sleep(200);
    }
}

/** The ledger row a key should end up with: the sum of every call of it that reached the provider. */
export class ExpectedUsage {
    requests = 0;
    input_tokens = 0;
    cached_tokens = 0;
    cache_write_tokens = 0;
    output_tokens = 0;
    reasoning_tokens = 0;
    cost = 0;

    /** Notes one successful provider call. Call it as soon as the call has completed. */
    billed({ input, output, cached = 0, cacheWrite = 0, reasoning = 0 }) {
        this.requests += 1;
        this.input_tokens += input;
        this.cached_tokens += cached;
        this.cache_write_tokens += cacheWrite;
        this.output_tokens += output;
        this.reasoning_tokens += reasoning;
        this.cost += costOf({ input, output, cached, cacheWrite });
    }

    /** Notes one call that reached the provider but carries no usage (a Responses follow-up): a record, 0 tokens, 0 cost. */
    recorded() {
        this.billed({ input: 0, output: 0 });
    }

    counts() {
        const { cost, ...counts } = this;
        return counts;
    }
}

/** Asserts that a ledger row holds exactly the expected counts, and the expected cost within COST_TOLERANCE. */
export function assertUsageRow(row, expected, label = 'usage row') {
    const expectedCounts = expected.counts();
    const actualCounts = Object.fromEntries(Object.keys(expectedCounts).map((name) => [name, row?.[name]]));
    assert.deepEqual(actualCounts, expectedCounts, `${label}: ${JSON.stringify(row)}`);
    assertClose(row.cost, expected.cost, `${label}: ledger cost`);
}
