// End-to-end tests of the response cache through real clients: the OpenAI and Anthropic Node.js SDKs get identical
// answers from a hit, streaming and not, in either order (a stored answer serves both forms); the hit never reaches the
// provider (the answer keeps the first call's id, and the ledger counts a cache hit with no tokens); two keys in their
// own namespaces never share an entry.
//
// The gateway runs with `--demo` (its built-in mock provider `mock`, which gives every answer a new id). Build the
// gateway first (Release). Run: node --test --test-concurrency=1 cache.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { LEDGER_TIMEOUT_MS, adminGet, adminRequest, createKey, sleep, useGateway } from './gateway.mjs';

const keys = {};

const gateway = useGateway(async (gw) => {
    for (const name of ['a', 'b']) {
        keys[name] = await createKey(gw, { name: `cache-${name}` });
        const res = await adminRequest(gw, 'POST', '/admin/cache-policies', { scope: 'key', subject: keys[name].id });
        assert.equal(res.status, 201, `POST /admin/cache-policies: ${res.text}`);
    }
});

const CLIENT_OPTIONS = { maxRetries: 0, timeout: 30_000 };
const openai = (apiKey) => new OpenAI({ apiKey, baseURL: `${gateway.gw.baseUrl}/v1`, ...CLIENT_OPTIONS });
const anthropic = (apiKey) => new Anthropic({ apiKey, baseURL: gateway.gw.baseUrl, ...CLIENT_OPTIONS });
const unique = () => Math.random().toString(36).slice(2, 10);

/** The ledger row of a key once it has `requests` calls. */
async function usageOf(keyId, requests) {
    const deadline = Date.now() + LEDGER_TIMEOUT_MS;
    for (;;) {
        const res = await adminGet(gateway.gw, '/admin/usage?group_by=key');
        const row = res.json.find((r) => r.key === keyId);
        if ((row && row.requests >= requests) || Date.now() > deadline) {
            return row;
        }
        await sleep(100);
    }
}

async function streamChat(client, body) {
    const { data: stream, response } = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }).withResponse();
    let text = '';
    let chunks = 0;
    let id;
    let finish;
    let usage;
    for await (const chunk of stream) {
        id ??= chunk.id;
        if (chunk.choices[0]?.delta?.content) {
            text += chunk.choices[0].delta.content;
            chunks++;
        }
        finish ??= chunk.choices[0]?.finish_reason ?? undefined;
        usage ??= chunk.usage ?? undefined;
    }
    return { text, chunks, id, finish, usage, cache: response.headers.get('x-tollgate-cache') };
}

test('openai: a hit returns the identical answer, plain and streamed, and never reaches the provider', async () => {
    const client = openai(keys.a.key);
    const body = { model: 'mock/echo', max_tokens: 16, messages: [{ role: 'user', content: `Tell me about caching ${unique()}` }] };

    const { data: first, response: r1 } = await client.chat.completions.create(body).withResponse();
    const { data: again, response: r2 } = await client.chat.completions.create(body).withResponse();
    const streamed = await streamChat(client, body);

    assert.equal(r1.headers.get('x-tollgate-cache'), 'miss');
    assert.equal(r2.headers.get('x-tollgate-cache'), 'hit');
    assert.equal(r2.headers.get('x-tollgate-cost'), '0');
    assert.deepEqual(again, first, 'a hit is the stored answer, id included');
    assert.equal(streamed.cache, 'hit');
    assert.equal(streamed.id, first.id);
    assert.equal(streamed.text, first.choices[0].message.content);
    assert.ok(streamed.chunks >= 2, `a streamed hit comes in several chunks (${streamed.chunks})`);
    assert.equal(streamed.finish, 'stop');
    assert.equal(streamed.usage.prompt_tokens, first.usage.prompt_tokens);

    const row = await usageOf(keys.a.id, 3); // this test runs first: the key's first three calls
    assert.equal(row.requests, 3);
    assert.equal(row.cache_hits, 2, `the ledger counts the hits: ${JSON.stringify(row)}`);
    assert.equal(row.input_tokens, first.usage.prompt_tokens, 'only the miss used tokens');
});

test('openai: a streamed answer is stored once it has ended and serves a plain request', async () => {
    const client = openai(keys.a.key);
    const body = { model: 'mock/echo', max_tokens: 16, messages: [{ role: 'user', content: `Stream first ${unique()}` }] };

    const first = await streamChat(client, body);
    const { data: plain, response } = await client.chat.completions.create(body).withResponse();
    const second = await streamChat(client, body);

    assert.equal(first.cache, 'miss');
    assert.equal(response.headers.get('x-tollgate-cache'), 'hit');
    assert.equal(plain.id, first.id);
    assert.equal(plain.choices[0].message.content, first.text);
    assert.equal(plain.choices[0].finish_reason, 'stop');
    assert.equal(second.cache, 'hit');
    assert.equal(second.text, first.text);
});

test('anthropic: a hit returns the identical message, plain and through messages.stream', async () => {
    const client = anthropic(keys.a.key);
    const body = { model: 'mock/echo', max_tokens: 16, messages: [{ role: 'user', content: `Hello Claude ${unique()}` }] };

    const { data: first, response: r1 } = await client.messages.create(body).withResponse();
    const { data: again, response: r2 } = await client.messages.create(body).withResponse();
    const stream = client.messages.stream(body);
    let deltas = 0;
    stream.on('text', () => { deltas++; });
    const streamed = await stream.finalMessage();

    assert.equal(r1.headers.get('x-tollgate-cache'), 'miss');
    assert.equal(r2.headers.get('x-tollgate-cache'), 'hit');
    assert.deepEqual(again, first);
    assert.equal(streamed.id, first.id);
    assert.deepEqual(streamed.content, first.content);
    assert.equal(streamed.stop_reason, first.stop_reason);
    assert.equal(streamed.usage.output_tokens, first.usage.output_tokens);
    assert.ok(deltas >= 2, `a streamed hit comes in several text deltas (${deltas})`);
});

test('anthropic: a streamed message is stored and serves the plain form', async () => {
    const client = anthropic(keys.a.key);
    const body = { model: 'mock/echo', max_tokens: 16, messages: [{ role: 'user', content: `Stream me ${unique()}` }] };

    const streamed = await client.messages.stream(body).finalMessage();
    const { data: plain, response } = await client.messages.create(body).withResponse();

    assert.equal(response.headers.get('x-tollgate-cache'), 'hit');
    assert.equal(plain.id, streamed.id);
    assert.deepEqual(plain.content, streamed.content);
});

test('two keys in their own namespaces never share an entry', async () => {
    const body = { model: 'mock/echo', max_tokens: 16, messages: [{ role: 'user', content: `Private question ${unique()}` }] };

    const { data: a } = await openai(keys.a.key).chat.completions.create(body).withResponse();
    const { data: b, response } = await openai(keys.b.key).chat.completions.create(body).withResponse();

    assert.equal(response.headers.get('x-tollgate-cache'), 'miss');
    assert.notEqual(b.id, a.id, 'key b got its own answer from the provider');
});
