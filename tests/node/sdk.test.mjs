// End-to-end tests of the Tollgate gateway through the official OpenAI and Anthropic Node.js SDKs.
//
// The test starts the built gateway itself (`dotnet <dll> --demo ...`, see gateway.mjs), creates a virtual key,
// talks to the built-in `mock` provider through both SDKs and finally checks that the ledger billed exactly those
// calls. Build the gateway first (Release), or point TOLLGATE_GATEWAY_DLL at the DLL. Run with `npm test`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import {
    EIGHT_WORDS,
    ExpectedUsage,
    answer,
    assertClose,
    assertUsageRow,
    costOf,
    createKey,
    useGateway,
    waitForUsage,
} from './gateway.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Gateway, SDK clients and the ledger we expect

let virtualKey; // { id, key, ... } from POST /admin/keys

const gateway = useGateway(async (gw) => {
    virtualKey = await createKey(gw, { name: 'node-sdk' });
});

// No retries: every call below must reach the gateway exactly once, or the ledger sums would drift.
const CLIENT_OPTIONS = { maxRetries: 0, timeout: 30_000 };

const openai = (apiKey = virtualKey.key) =>
    new OpenAI({ apiKey, baseURL: `${gateway.gw.baseUrl}/v1`, ...CLIENT_OPTIONS });
const anthropic = (apiKey = virtualKey.key) =>
    new Anthropic({ apiKey, baseURL: gateway.gw.baseUrl, ...CLIENT_OPTIONS });

/** The ledger row the created key should end up with: the sum of every successful provider call it made. */
const expectedLedger = new ExpectedUsage();

/** Notes one successful provider call made with the virtual key. Call it as soon as the call has completed. */
const billed = (call) => expectedLedger.billed(call);

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

test('ledger: the key is billed exactly for the calls that reached the provider', async () => {
    assert.ok(expectedLedger.requests > 0, 'the tests above made billable calls');
    const row = await waitForUsage(gateway.gw, virtualKey.id, expectedLedger.requests);
    assert.ok(row, `a usage row for key ${virtualKey.id}`);
    assertUsageRow(row, expectedLedger);
});
