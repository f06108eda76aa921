// End-to-end tests of the OpenAI Responses API through the Tollgate gateway, with the official `openai` Node.js SDK
// and with the Vercel AI SDK (`ai` + `@ai-sdk/openai`, whose default OpenAI model is the Responses API).
//
// Like sdk.test.mjs, this file starts its own gateway (`dotnet <dll> --demo ...`, see gateway.mjs), creates virtual
// keys, talks to the built-in `mock` provider, and finally checks that the ledger recorded exactly those calls.
// Build the gateway first (Release), or point TOLLGATE_GATEWAY_DLL at the DLL. Run with `npm test`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { z } from 'zod';
import {
    EIGHT_WORDS,
    ExpectedUsage,
    answer,
    assertClose,
    assertUsageRow,
    costOf,
    createKey,
    usageByKey,
    useGateway,
    waitForUsage,
} from './gateway.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Gateway, keys, clients and the ledger we expect

let keyA; // the OpenAI SDK tests; owns every response they create
let keyB; // a second key that must not see key A's responses
let keyAi; // the AI SDK tests

const gateway = useGateway(async (gw) => {
    keyA = await createKey(gw, { name: 'node-responses-a' });
    keyB = await createKey(gw, { name: 'node-responses-b' });
    keyAi = await createKey(gw, { name: 'node-responses-ai-sdk' });
});

// No retries: every call below must reach the gateway exactly once, or the ledger sums would drift.
const CLIENT_OPTIONS = { maxRetries: 0, timeout: 30_000 };

const openai = (apiKey = keyA.key) => new OpenAI({ apiKey, baseURL: `${gateway.gw.baseUrl}/v1`, ...CLIENT_OPTIONS });

/** The ledger rows the keys should end up with. Key B never reaches the provider, so it has none. */
const expectedA = new ExpectedUsage();
const expectedAi = new ExpectedUsage();

const MODEL = 'mock/echo';
const DEFAULT_CALL = { input: 12, output: 8 };
const TERMINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

async function collect(stream) {
    const items = [];
    for await (const item of stream) {
        items.push(item);
    }
    return items;
}

/** Checks an OpenAI SDK error: its class, HTTP status and the gateway's `error.code`. */
function expectError(ErrorClass, status, code, extra = () => {}) {
    return (err) => {
        assert.ok(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err}`);
        assert.equal(err.status, status);
        assert.equal(err.error?.code, code, `error body: ${JSON.stringify(err.error)}`);
        extra(err);
        return true;
    };
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAI SDK

test('openai responses: create returns the mock answer, usage, a resp_ id and the cost header', async () => {
    const { data, response } = await openai()
        .responses.create({ model: MODEL, input: 'Say hi' })
        .withResponse();
    expectedA.billed(DEFAULT_CALL);

    assert.match(data.id, /^resp_/);
    assert.equal(data.output_text, EIGHT_WORDS);
    assert.equal(data.usage.input_tokens, 12);
    assert.equal(data.usage.output_tokens, 8);

    const cost = response.headers.get('x-tollgate-cost');
    assert.ok(cost, 'x-tollgate-cost header is present');
    assertClose(Number.parseFloat(cost), 0.000028, 'x-tollgate-cost');
    assertClose(costOf(DEFAULT_CALL), 0.000028, 'the test\'s own price table');
    assert.ok(response.headers.get('x-tollgate-request-id'), 'x-tollgate-request-id header is present');
});

test('openai responses: a stream carries the text as deltas and ends with one response.completed', async () => {
    const stream = await openai().responses.create({ model: MODEL, input: 'Say hi', stream: true });
    const events = await collect(stream);
    expectedA.billed(DEFAULT_CALL);

    assert.ok(events.length > 0, 'received events');
    let previous = -Infinity;
    for (const [i, event] of events.entries()) {
        assert.equal(typeof event.sequence_number, 'number', `event ${i} has a numeric sequence_number: ${JSON.stringify(event)}`);
        assert.ok(event.sequence_number > previous, `event ${i}: sequence_number increases: ${JSON.stringify(event)}`);
        previous = event.sequence_number;
    }

    const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
    assert.equal(text, EIGHT_WORDS);

    const terminal = events.filter((e) => TERMINAL_EVENTS.has(e.type));
    assert.deepEqual(terminal.map((e) => e.type), ['response.completed'], 'exactly one terminal event, response.completed');
    assert.equal(events.at(-1).type, 'response.completed', 'response.completed is the last event');
    assert.equal(terminal[0].response.usage.output_tokens, 8);
});

test('openai responses: cached and reasoning tokens are reported in the usage details', async () => {
    const { data, response } = await openai()
        .responses.create(
            { model: MODEL, input: 'Say hi' },
            { headers: { 'x-mock-prompt-tokens': '100', 'x-mock-cached-tokens': '40', 'x-mock-reasoning-tokens': '3' } },
        )
        .withResponse();
    const call = { input: 100, cached: 40, output: 8, reasoning: 3 };
    expectedA.billed(call);

    assert.equal(data.usage.input_tokens, 100);
    assert.equal(data.usage.input_tokens_details?.cached_tokens, 40);
    assert.equal(data.usage.output_tokens, 8);
    assert.equal(data.usage.output_tokens_details?.reasoning_tokens, 3);
    // Reasoning is part of the output but not visible: 8 - 3 = 5 words.
    assert.equal(data.output_text, answer(5));
    assert.equal(data.output_text, 'Tollgate meters every token that');

    const cost = response.headers.get('x-tollgate-cost');
    assert.ok(cost, 'x-tollgate-cost header is present');
    assertClose(Number.parseFloat(cost), costOf(call), 'x-tollgate-cost');
});

test('openai responses: only the key that created a response can retrieve or delete it', async () => {
    const created = await openai(keyA.key).responses.create({ model: MODEL, input: 'Say hi' });
    expectedA.billed(DEFAULT_CALL);
    assert.match(created.id, /^resp_/);

    const retrieved = await openai(keyA.key).responses.retrieve(created.id);
    expectedA.recorded(); // reached the provider: one record, no tokens, no cost
    assert.equal(retrieved.id, created.id);

    // Another key gets 404 from the gateway itself; nothing is forwarded, nothing is recorded.
    await assert.rejects(
        openai(keyB.key).responses.retrieve(created.id),
        expectError(OpenAI.NotFoundError, 404, 'not_found'),
    );
    await assert.rejects(
        openai(keyB.key).responses.delete(created.id),
        expectError(OpenAI.NotFoundError, 404, 'not_found'),
    );

    await openai(keyA.key).responses.delete(created.id);
    expectedA.recorded();
});

test('openai responses: background mode is refused with 400 invalid_request', async () => {
    await assert.rejects(
        openai().responses.create({ model: MODEL, input: 'x', background: true }),
        expectError(OpenAI.BadRequestError, 400, 'invalid_request', (err) => {
            assert.match(err.error?.message ?? '', /background/, `error message: ${JSON.stringify(err.error)}`);
        }),
    );
});

// ---------------------------------------------------------------------------------------------------------------
// Vercel AI SDK

/**
 * An AI SDK OpenAI provider for the gateway whose fetch notes every request (URL, method, JSON body) and the status
 * it got, so the test can see what the SDK really sent and count the calls that reached the gateway.
 */
function aiSdkProvider(apiKey) {
    const requests = [];
    const provider = createOpenAI({
        baseURL: `${gateway.gw.baseUrl}/v1`,
        apiKey,
        fetch: async (url, init = {}) => {
            let body;
            try {
                body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
            } catch {
                body = undefined;
            }
            const entry = { url: String(url), method: init.method ?? 'GET', body, status: undefined };
            requests.push(entry);
            const res = await fetch(url, init);
            entry.status = res.status;
            return res;
        },
    });
    return { provider, requests };
}

/** Bills one default call for each request that the gateway answered 200 (those reached the provider). */
function billSuccessful(requests) {
    for (const request of requests) {
        if (request.status === 200) {
            expectedAi.billed(DEFAULT_CALL);
        }
    }
}

const weather = tool({
    description: 'Weather for a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, celsius: 21 }),
});

test('ai sdk: openai(id) is the Responses API model', () => {
    const { provider } = aiSdkProvider('tg-unused');
    const model = provider(MODEL);
    assert.equal(model.provider, 'openai.responses', 'createOpenAI()(id) maps to the Responses model');
    assert.equal(model.modelId, MODEL);
});

test('ai sdk: generateText calls the tool, sends its output back, and ends with the answer', async () => {
    const { provider, requests } = aiSdkProvider(keyAi.key);
    let result;
    try {
        result = await generateText({
            model: provider(MODEL),
            tools: { weather },
            stopWhen: stepCountIs(3),
            prompt: 'What is the weather in Paris?',
            maxRetries: 0,
        });
    } finally {
        billSuccessful(requests);
    }

    // Two POSTs to {baseURL}/responses: the tool call, then the answer to the tool's output.
    assert.deepEqual(
        requests.map((r) => `${r.method} ${r.url} ${r.status}`),
        Array(2).fill(`POST ${gateway.gw.baseUrl}/v1/responses 200`),
    );
    const [first, second] = requests.map((r) => r.body);
    assert.equal(first.model, MODEL);
    assert.deepEqual(first.tools?.map((t) => [t.type, t.name]), [['function', 'weather']], `tools: ${JSON.stringify(first.tools)}`);
    assert.equal(first.input.some((item) => item.type === 'function_call_output'), false, 'step 1 carries no tool output');

    assert.equal(result.steps.length, 2);
    const [step1, step2] = result.steps;
    assert.equal(step1.finishReason, 'tool-calls');
    assert.equal(step1.toolCalls.length, 1, `step 1 tool calls: ${JSON.stringify(step1.toolCalls)}`);
    assert.equal(step1.toolCalls[0].toolName, 'weather');
    assert.deepEqual(step1.toolCalls[0].input, { city: 'mock' });
    assert.equal(step1.toolResults.length, 1, `step 1 tool results: ${JSON.stringify(step1.toolResults)}`);
    assert.equal(step1.toolResults[0].toolName, 'weather');
    assert.equal(step1.toolResults[0].toolCallId, step1.toolCalls[0].toolCallId);
    assert.deepEqual(step1.toolResults[0].output, { city: 'mock', celsius: 21 });

    // Step 2 sends the call and its output back as input items.
    const callId = step1.toolCalls[0].toolCallId;
    const outputItem = second.input.find((item) => item.type === 'function_call_output');
    assert.ok(outputItem, `step 2 input has a function_call_output item: ${JSON.stringify(second.input)}`);
    assert.equal(outputItem.call_id, callId);
    assert.deepEqual(JSON.parse(outputItem.output), { city: 'mock', celsius: 21 });
    const callItem = second.input.find((item) => item.type === 'function_call');
    assert.ok(callItem, `step 2 input repeats the function_call item: ${JSON.stringify(second.input)}`);
    assert.equal(callItem.call_id, callId);

    assert.equal(step2.toolCalls.length, 0);
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.text, EIGHT_WORDS);
    assert.equal(result.totalUsage.inputTokens, 24);
    assert.equal(result.totalUsage.outputTokens, 16);
});

test('ai sdk: streamText streams the answer', async () => {
    const { provider, requests } = aiSdkProvider(keyAi.key);
    let text = '';
    const errors = [];
    let result;
    try {
        result = streamText({ model: provider(MODEL), prompt: 'Say hi', maxRetries: 0 });
        for await (const part of result.fullStream) {
            if (part.type === 'text-delta') {
                text += part.text;
            } else if (part.type === 'error') {
                errors.push(part.error);
            }
        }
    } finally {
        billSuccessful(requests);
    }

    assert.deepEqual(errors, [], 'the stream had no error parts');
    assert.deepEqual(
        requests.map((r) => `${r.method} ${r.url} ${r.status}`),
        [`POST ${gateway.gw.baseUrl}/v1/responses 200`],
    );
    assert.equal(requests[0].body.stream, true);
    assert.equal(text, EIGHT_WORDS);
    assert.equal(await result.finishReason, 'stop');
    const usage = await result.usage;
    assert.equal(usage.inputTokens, 12);
    assert.equal(usage.outputTokens, 8);
});

// ---------------------------------------------------------------------------------------------------------------
// Ledger (keep last: it checks the sums of every call above)

test('ledger: each key is recorded exactly for the calls that reached the provider', async () => {
    assert.ok(expectedA.requests > 0, 'the OpenAI SDK tests above made calls');
    assert.ok(expectedAi.requests > 0, 'the AI SDK tests above made calls');

    const rowA = await waitForUsage(gateway.gw, keyA.id, expectedA.requests);
    assert.ok(rowA, `a usage row for key A ${keyA.id}`);
    assertUsageRow(rowA, expectedA, 'key A usage row');

    const rowAi = await waitForUsage(gateway.gw, keyAi.id, expectedAi.requests);
    assert.ok(rowAi, `a usage row for the AI SDK key ${keyAi.id}`);
    assertUsageRow(rowAi, expectedAi, 'AI SDK key usage row');

    // Key B only got 404s from the gateway: no record at all (its row, if any, is empty).
    const rowB = (await usageByKey(gateway.gw)).find((r) => r.key === keyB.id);
    assert.ok(rowB === undefined || rowB.requests === 0, `key B has no records: ${JSON.stringify(rowB)}`);
});
