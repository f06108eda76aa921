// End-to-end tests of routes through real clients: the OpenAI and Anthropic Node.js SDKs and the Vercel AI SDK call a
// route name, the gateway falls back across providers and translates Chat Completions ⇄ Anthropic Messages.
//
// The gateway runs with `--demo` (its built-in mock, an `openai_compatible` provider named `mock`). The test registers
// the same mock again as an `anthropic`-kind provider (`anth`: the gateway speaks /v1/messages to it) and as an
// `openai`-kind provider (`oai`: /v1/chat/completions), plus an `openai` provider at a port nobody listens on (`dead`).
// The mock fails on request: a model `fail-429…` answers 429, `fail-500…` 500, `slow-4000` waits 4 s (longer than
// the gateway's upstream idle timeout, set to 1 s here). It answers tool calls when offered tools, and quotes a tool
// result back as text. Build the gateway first (Release). Run: node --test --test-concurrency=1 routes.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import {
    EIGHT_WORDS,
    LEDGER_TIMEOUT_MS,
    adminGet,
    adminRequest,
    createKey,
    freePort,
    sleep,
    useGateway,
} from './gateway.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Gateway, providers, routes

const FALLBACK = 'anth/claude-fallback';

/** The ways a first target fails, each with its own route (and key, so each has its own ledger rows). */
const FAILURES = [
    { name: 'fb-429', first: 'oai/fail-429-route', why: '429' },
    { name: 'fb-500', first: 'oai/fail-500-route', why: '500' },
    { name: 'fb-timeout', first: 'oai/slow-4000', why: 'timeout' },
    { name: 'fb-refused', first: 'dead/gpt-4o', why: 'refused connection' },
];

const keys = {}; // name → { id, key }

async function ok(res, what, status = 200) {
    assert.equal(res.status, status, `${what}: ${res.text}`);
    return res.json;
}

async function createRoute(gw, route) {
    // A high cooldown threshold unless the test is about cooldowns: each test's first target fails on every call.
    return ok(await adminRequest(gw, 'POST', '/admin/routes', {
        retry: { attempts: 1, backoff_ms: 0 },
        cooldown: { failures: 1000, seconds: 1 },
        ...route,
    }), `POST /admin/routes ${route.name}`, 201);
}

const gateway = useGateway(async (gw) => {
    const providers = await ok(await adminGet(gw, '/admin/providers'), 'GET /admin/providers');
    const mockBase = providers.find((p) => p.name === 'mock')?.base_url;
    assert.ok(mockBase, `the demo mock provider is registered: ${JSON.stringify(providers)}`);
    const deadPort = await freePort();
    for (const [name, kind, baseUrl] of [
        ['anth', 'anthropic', mockBase],
        ['oai', 'openai', mockBase],
        ['dead', 'openai', `http://127.0.0.1:${deadPort}/v1`],
    ]) {
        await ok(await adminRequest(gw, 'POST', '/admin/providers', { name, kind, base_url: baseUrl, api_key: 'sk-mock' }),
            `POST /admin/providers ${name}`, 201);
    }

    for (const { name, first } of FAILURES) {
        await createRoute(gw, { name, targets: [{ model: first }], fallbacks: [FALLBACK] });
        keys[name] = await createKey(gw, { name: `routes-${name}` });
    }

    await createRoute(gw, { name: 'claude-via-openai', targets: [{ model: 'oai/gpt-4o-mini' }] });
    await createRoute(gw, { name: 'claude-relayed', targets: [{ model: 'mock/echo' }] });
    await createRoute(gw, { name: 'ai-sdk-tools', targets: [{ model: 'anth/claude-tools' }] });
    keys.anthropic = await createKey(gw, { name: 'routes-anthropic' });
    keys.aiSdk = await createKey(gw, { name: 'routes-ai-sdk' });
}, { env: { TOLLGATE_UPSTREAM_IDLE_TIMEOUT_SECONDS: '1' } });

const CLIENT_OPTIONS = { maxRetries: 0, timeout: 30_000 };
const openai = (apiKey) => new OpenAI({ apiKey, baseURL: `${gateway.gw.baseUrl}/v1`, ...CLIENT_OPTIONS });
const anthropic = (apiKey) => new Anthropic({ apiKey, baseURL: gateway.gw.baseUrl, ...CLIENT_OPTIONS });

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const MESSAGES = [{ role: 'user', content: 'Say something about Tollgate.' }];
const WEATHER_QUESTION = 'What is the weather in Paris?';
const TOOL_RESULT = 'sunny, 21 degrees';

const OPENAI_TOOLS = [{
    type: 'function',
    function: {
        name: 'get_weather',
        description: 'The current weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
}];

const ANTHROPIC_TOOLS = [{
    name: 'get_weather',
    description: 'The current weather in a city',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}];

async function collect(stream) {
    const chunks = [];
    for await (const chunk of stream) {
        chunks.push(chunk);
    }
    return chunks;
}

const deltaText = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
const finishReason = (chunks) => chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean).at(-1);
const anthropicText = (message) => message.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

/** The tool calls of a streamed Chat Completion, assembled from their deltas by index. */
function streamedToolCalls(chunks) {
    const calls = [];
    for (const chunk of chunks) {
        for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
            const call = (calls[delta.index] ??= { id: undefined, type: undefined, function: { name: '', arguments: '' } });
            call.id ??= delta.id;
            call.type ??= delta.type;
            call.function.name += delta.function?.name ?? '';
            call.function.arguments += delta.function?.arguments ?? '';
        }
    }
    return calls;
}

/** Asserts the routing headers of one call. */
function assertRouted(response, { route, model, attempts }, label) {
    assert.equal(response.headers.get('x-tollgate-route'), route, `${label}: X-Tollgate-Route`);
    assert.equal(response.headers.get('x-tollgate-model'), model, `${label}: X-Tollgate-Model`);
    assert.equal(response.headers.get('x-tollgate-attempts'), String(attempts), `${label}: X-Tollgate-Attempts`);
}

/**
 * The usage rows of one key grouped by route and model, polled until they hold `records` records in all (the ledger
 * is written in the background).
 */
async function usageByRouteAndModel(keyId, records) {
    const deadline = Date.now() + LEDGER_TIMEOUT_MS;
    for (;;) {
        const res = await adminGet(gateway.gw, `/admin/usage?group_by=route,model&key=${keyId}`);
        assert.equal(res.status, 200, `GET /admin/usage: ${res.text}`);
        const total = res.json.reduce((sum, row) => sum + row.requests, 0);
        if (total >= records || Date.now() > deadline) {
            return Object.fromEntries(res.json.map((row) => [`${row.route} ${row.model}`, row.requests]));
        }
        await sleep(200);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// npm openai: the first target fails, the Anthropic-kind fallback answers through translation

for (const { name: route, first, why } of FAILURES) {
    test(`openai → route whose first target fails (${why}) falls back to the anthropic provider: text, streams, tool calls, ledger`, async () => {
        const client = openai(keys[route].key);
        const routed = { route, model: FALLBACK, attempts: 2 };
        let calls = 0;

        // Text.
        const { data: completion, response } = await client.chat.completions
            .create({ model: route, messages: MESSAGES })
            .withResponse();
        calls++;
        assertRouted(response, routed, 'text');
        assert.equal(completion.object, 'chat.completion');
        assert.equal(completion.choices[0].message.role, 'assistant');
        assert.equal(completion.choices[0].message.content, EIGHT_WORDS);
        assert.equal(completion.choices[0].finish_reason, 'stop');
        assert.deepEqual(
            [completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens],
            [12, 8, 20],
        );

        // Streaming without stream_options: the text, no usage anywhere.
        {
            const { data: stream, response: streamed } = await client.chat.completions
                .create({ model: route, messages: MESSAGES, stream: true })
                .withResponse();
            const chunks = await collect(stream);
            calls++;
            assertRouted(streamed, routed, 'stream');
            assert.equal(deltaText(chunks), EIGHT_WORDS);
            assert.equal(finishReason(chunks), 'stop');
            for (const [i, chunk] of chunks.entries()) {
                assert.equal(chunk.object, 'chat.completion.chunk');
                assert.equal('usage' in chunk, false, `chunk ${i} carries no usage: ${JSON.stringify(chunk)}`);
                assert.equal(chunk.choices.length, 1, `chunk ${i} has one choice: ${JSON.stringify(chunk)}`);
            }
        }

        // Streaming with include_usage: a last usage-only chunk.
        {
            const { data: stream, response: streamed } = await client.chat.completions
                .create({ model: route, messages: MESSAGES, stream: true, stream_options: { include_usage: true } })
                .withResponse();
            const chunks = await collect(stream);
            calls++;
            assertRouted(streamed, routed, 'stream with usage');
            assert.equal(deltaText(chunks), EIGHT_WORDS);
            assert.equal(finishReason(chunks), 'stop');
            const last = chunks.at(-1);
            assert.deepEqual(last.choices, [], `the usage chunk has no choices: ${JSON.stringify(last)}`);
            assert.equal(last.usage?.prompt_tokens, 12);
            assert.equal(last.usage?.completion_tokens, 8);
        }

        // Two-turn tool call, not streamed.
        {
            const messages = [{ role: 'user', content: WEATHER_QUESTION }];
            const { data: first, response: r1 } = await client.chat.completions
                .create({ model: route, messages, tools: OPENAI_TOOLS })
                .withResponse();
            calls++;
            assertRouted(r1, routed, 'tool call, turn 1');
            const choice = first.choices[0];
            assert.equal(choice.finish_reason, 'tool_calls');
            assert.equal(choice.message.tool_calls?.length, 1, JSON.stringify(choice.message));
            const [call] = choice.message.tool_calls;
            assert.equal(call.type, 'function');
            assert.equal(call.function.name, 'get_weather');
            assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
            assert.ok(call.id, 'the tool call has an id');

            messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: TOOL_RESULT });
            const { data: second, response: r2 } = await client.chat.completions
                .create({ model: route, messages, tools: OPENAI_TOOLS })
                .withResponse();
            calls++;
            assertRouted(r2, routed, 'tool call, turn 2');
            assert.equal(second.choices[0].finish_reason, 'stop');
            assert.ok(!second.choices[0].message.tool_calls?.length, 'no tool call in turn 2');
            assert.ok(second.choices[0].message.content.includes(TOOL_RESULT),
                `turn 2 answers with the tool result: ${second.choices[0].message.content}`);
        }

        // Two-turn tool call, streamed.
        {
            const messages = [{ role: 'user', content: WEATHER_QUESTION }];
            const { data: stream, response: r1 } = await client.chat.completions
                .create({ model: route, messages, tools: OPENAI_TOOLS, stream: true, stream_options: { include_usage: true } })
                .withResponse();
            const chunks = await collect(stream);
            calls++;
            assertRouted(r1, routed, 'streamed tool call, turn 1');
            assert.equal(finishReason(chunks), 'tool_calls');
            assert.equal(deltaText(chunks), '', 'no text in a tool-call turn');
            const toolCalls = streamedToolCalls(chunks);
            assert.equal(toolCalls.length, 1, JSON.stringify(toolCalls));
            assert.equal(toolCalls[0].type, 'function');
            assert.equal(toolCalls[0].function.name, 'get_weather');
            assert.deepEqual(JSON.parse(toolCalls[0].function.arguments), { city: 'Paris' });
            assert.ok(toolCalls[0].id, 'the streamed tool call has an id');
            assert.equal(chunks.at(-1).usage?.completion_tokens, 8);

            messages.push(
                { role: 'assistant', content: null, tool_calls: toolCalls },
                { role: 'tool', tool_call_id: toolCalls[0].id, content: TOOL_RESULT },
            );
            const { data: stream2, response: r2 } = await client.chat.completions
                .create({ model: route, messages, tools: OPENAI_TOOLS, stream: true })
                .withResponse();
            const chunks2 = await collect(stream2);
            calls++;
            assertRouted(r2, routed, 'streamed tool call, turn 2');
            assert.equal(finishReason(chunks2), 'stop');
            assert.ok(deltaText(chunks2).includes(TOOL_RESULT), `turn 2 streams the tool result: ${deltaText(chunks2)}`);
            assert.equal(streamedToolCalls(chunks2).length, 0, 'no tool call in turn 2');
        }

        // The ledger: every attempt is a record of its own, under the route: one failed, one answered per call.
        const rows = await usageByRouteAndModel(keys[route].id, 2 * calls);
        assert.deepEqual(rows, { [`${route} ${first}`]: calls, [`${route} ${FALLBACK}`]: calls });
    });
}

// ---------------------------------------------------------------------------------------------------------------
// @anthropic-ai/sdk: a route served by an `openai` provider (translated), and one by an `openai_compatible` provider
// that speaks /v1/messages itself (relayed)

const TRANSLATED = { route: 'claude-via-openai', model: 'oai/gpt-4o-mini', attempts: 1 };
const RELAYED = { route: 'claude-relayed', model: 'mock/echo', attempts: 1 };

test('anthropic → route served by an openai provider (translated): text, stream, two-turn tool use', async () => {
    const client = anthropic(keys.anthropic.key);
    const base = { model: TRANSLATED.route, max_tokens: 100 };

    const { data: message, response } = await client.messages
        .create({ ...base, messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
    assertRouted(response, TRANSLATED, 'text');
    // The mock's Chat Completions endpoint names its answers chatcmpl-…: the gateway spoke Chat to the provider.
    assert.match(message.id, /^chatcmpl-mock/);
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(anthropicText(message), EIGHT_WORDS);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.input_tokens, 12);
    assert.equal(message.usage.output_tokens, 8);

    // Streaming: messages.stream() assembles the text and usage.
    const stream = client.messages.stream({ ...base, messages: [{ role: 'user', content: 'hi' }] });
    const texts = [];
    stream.on('text', (delta) => texts.push(delta));
    const { response: streamed } = await stream.withResponse();
    assertRouted(streamed, TRANSLATED, 'stream');
    const final = await stream.finalMessage();
    assert.equal(anthropicText(final), EIGHT_WORDS);
    assert.equal(texts.join(''), EIGHT_WORDS);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.input_tokens, 12);
    assert.equal(final.usage.output_tokens, 8);

    // Two-turn tool use, not streamed.
    const messages = [{ role: 'user', content: WEATHER_QUESTION }];
    const { data: first, response: r1 } = await client.messages
        .create({ ...base, messages, tools: ANTHROPIC_TOOLS })
        .withResponse();
    assertRouted(r1, TRANSLATED, 'tool use, turn 1');
    assert.equal(first.stop_reason, 'tool_use');
    const uses = first.content.filter((b) => b.type === 'tool_use');
    assert.equal(uses.length, 1, JSON.stringify(first.content));
    assert.equal(uses[0].name, 'get_weather');
    assert.deepEqual(uses[0].input, { city: 'Paris' });
    assert.ok(uses[0].id, 'the tool_use block has an id');

    messages.push(
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: TOOL_RESULT }] },
    );
    const second = await client.messages.create({ ...base, messages, tools: ANTHROPIC_TOOLS });
    assert.equal(second.stop_reason, 'end_turn');
    assert.equal(second.content.filter((b) => b.type === 'tool_use').length, 0);
    assert.ok(anthropicText(second).includes(TOOL_RESULT), `turn 2 answers with the tool result: ${anthropicText(second)}`);

    // Two-turn tool use, streamed: the SDK assembles the tool input from input_json_delta fragments.
    const streamedMessages = [{ role: 'user', content: WEATHER_QUESTION }];
    const toolStream = client.messages.stream({ ...base, messages: streamedMessages, tools: ANTHROPIC_TOOLS });
    const firstStreamed = await toolStream.finalMessage();
    assert.equal(firstStreamed.stop_reason, 'tool_use');
    const streamedUse = firstStreamed.content.find((b) => b.type === 'tool_use');
    assert.equal(streamedUse?.name, 'get_weather', JSON.stringify(firstStreamed.content));
    assert.deepEqual(streamedUse.input, { city: 'Paris' });

    streamedMessages.push(
        { role: 'assistant', content: firstStreamed.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: streamedUse.id, content: [{ type: 'text', text: TOOL_RESULT }] }] },
    );
    const secondStreamed = await client.messages
        .stream({ ...base, messages: streamedMessages, tools: ANTHROPIC_TOOLS })
        .finalMessage();
    assert.equal(secondStreamed.stop_reason, 'end_turn');
    assert.ok(anthropicText(secondStreamed).includes(TOOL_RESULT), `streamed turn 2: ${anthropicText(secondStreamed)}`);
});

test('anthropic → route served by an openai_compatible provider is relayed untranslated: text, stream, tool use', async () => {
    const client = anthropic(keys.anthropic.key);
    const base = { model: RELAYED.route, max_tokens: 100 };

    const { data: message, response } = await client.messages
        .create({ ...base, messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
    assertRouted(response, RELAYED, 'text');
    // The mock's Messages endpoint names its answers msg_mock…: the gateway relayed the Messages call as it is.
    assert.match(message.id, /^msg_mock/);
    assert.equal(anthropicText(message), EIGHT_WORDS);
    assert.equal(message.stop_reason, 'end_turn');

    const streamed = await client.messages.stream({ ...base, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    assert.match(streamed.id, /^msg_mock/);
    assert.equal(anthropicText(streamed), EIGHT_WORDS);
    assert.equal(streamed.usage.output_tokens, 8);

    const messages = [{ role: 'user', content: WEATHER_QUESTION }];
    const first = await client.messages.create({ ...base, messages, tools: ANTHROPIC_TOOLS });
    assert.match(first.id, /^msg_mock/);
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    assert.equal(use?.name, 'get_weather');
    assert.deepEqual(use.input, { city: 'Paris' });
    messages.push(
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: TOOL_RESULT }] },
    );
    const second = await client.messages.stream({ ...base, messages, tools: ANTHROPIC_TOOLS }).finalMessage();
    assert.equal(second.stop_reason, 'end_turn');
    assert.ok(anthropicText(second).includes(TOOL_RESULT), anthropicText(second));

    // Both routes' calls are in the ledger under their route, one record each (no fallback happened).
    const rows = await usageByRouteAndModel(keys.anthropic.id, 6 + 4);
    assert.deepEqual(rows, { [`${TRANSLATED.route} ${TRANSLATED.model}`]: 6, [`${RELAYED.route} ${RELAYED.model}`]: 4 });
});

// ---------------------------------------------------------------------------------------------------------------
// Vercel AI SDK: tools through a route whose target is the Anthropic-kind provider

const weatherTool = () => tool({
    description: 'The current weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => `${TOOL_RESULT} in ${city}`,
});

test('ai sdk → generateText with a tool through a translated route runs both steps', async () => {
    const provider = createOpenAI({ baseURL: `${gateway.gw.baseUrl}/v1`, apiKey: keys.aiSdk.key });
    const result = await generateText({
        model: provider.chat('ai-sdk-tools'),
        tools: { get_weather: weatherTool() },
        stopWhen: stepCountIs(2),
        prompt: WEATHER_QUESTION,
        maxRetries: 0,
    });

    assert.equal(result.steps.length, 2, JSON.stringify(result.steps.map((s) => s.finishReason)));
    const [first, second] = result.steps;
    assert.equal(first.finishReason, 'tool-calls');
    assert.equal(first.toolCalls.length, 1);
    assert.equal(first.toolCalls[0].toolName, 'get_weather');
    assert.deepEqual(first.toolCalls[0].input, { city: 'Paris' });
    assert.equal(first.toolResults[0].output, `${TOOL_RESULT} in Paris`);
    assert.equal(second.finishReason, 'stop');
    assert.ok(result.text.includes(`${TOOL_RESULT} in Paris`), `the final text quotes the tool result: ${result.text}`);
    assert.equal(result.totalUsage.inputTokens, 24);
    assert.equal(result.totalUsage.outputTokens, 16);
    assert.equal(second.response.headers?.['x-tollgate-model'], 'anth/claude-tools');
    assert.equal(second.response.headers?.['x-tollgate-route'], 'ai-sdk-tools');
});

test('ai sdk → streamText with a tool through a translated route runs both steps', async () => {
    const provider = createOpenAI({ baseURL: `${gateway.gw.baseUrl}/v1`, apiKey: keys.aiSdk.key });
    const result = streamText({
        model: provider.chat('ai-sdk-tools'),
        tools: { get_weather: weatherTool() },
        stopWhen: stepCountIs(2),
        prompt: WEATHER_QUESTION,
        maxRetries: 0,
    });

    const text = await result.text;
    const steps = await result.steps;
    assert.equal(steps.length, 2, JSON.stringify(steps.map((s) => s.finishReason)));
    assert.equal(steps[0].finishReason, 'tool-calls');
    assert.equal(steps[0].toolCalls[0]?.toolName, 'get_weather');
    assert.deepEqual(steps[0].toolCalls[0].input, { city: 'Paris' });
    assert.equal(steps[1].finishReason, 'stop');
    assert.ok(text.includes(`${TOOL_RESULT} in Paris`), `the streamed text quotes the tool result: ${text}`);

    const rows = await usageByRouteAndModel(keys.aiSdk.id, 4);
    assert.deepEqual(rows, { 'ai-sdk-tools anth/claude-tools': 4 });
});

// ---------------------------------------------------------------------------------------------------------------
// A budget at 80 % downgrades

test('a key whose day budget is 80 % spent is served by the route\'s downgrade model', async () => {
    const gw = gateway.gw;
    // mock/large: $1 per call of 8 output tokens (input free); mock/small keeps the demo price.
    await ok(await adminRequest(gw, 'PUT', '/admin/prices/mock/large', {
        input_per_mtok: 0, cached_input_per_mtok: 0, cache_write_per_mtok: 0, output_per_mtok: 125_000, currency: 'USD',
    }), 'PUT /admin/prices/mock/large');
    await createRoute(gw, { name: 'budgeted', targets: [{ model: 'mock/large' }], downgrade: { at: 0.8, model: 'mock/small' } });
    const key = await createKey(gw, { name: 'routes-budget', budget: { period: 'day', hard: 5 } });
    const client = openai(key.key);

    const served = [];
    for (let i = 0; i < 6; i++) {
        const { data, response } = await client.chat.completions
            .create({ model: 'budgeted', messages: MESSAGES, max_tokens: 8 })
            .withResponse();
        assert.equal(data.choices[0].message.content, EIGHT_WORDS);
        assert.equal(response.headers.get('x-tollgate-route'), 'budgeted');
        assert.equal(response.headers.get('x-tollgate-attempts'), '1');
        served.push([response.headers.get('x-tollgate-model'), Number.parseFloat(response.headers.get('x-tollgate-cost'))]);
    }

    // $1, $2, $3, $4 spent after the first four calls: the fifth starts at 80 % and is downgraded, as is the sixth.
    assert.deepEqual(served.map(([model]) => model), ['mock/large', 'mock/large', 'mock/large', 'mock/large', 'mock/small', 'mock/small']);
    for (const [model, cost] of served) {
        assert.ok(Math.abs(cost - (model === 'mock/large' ? 1 : (12 * 1 + 8 * 2) / 1e6)) < 1e-9, `${model} cost ${cost}`);
    }
});

// ---------------------------------------------------------------------------------------------------------------
// Cooldown: a failing target is skipped after `failures` failures in a row, and tried again after `seconds`

test('cooldown skips a failing target and returns to it afterwards', async () => {
    const gw = gateway.gw;
    const route = 'cooling';
    const bad = 'oai/fail-503-cooling';
    const good = 'anth/claude-cool';
    await createRoute(gw, { name: route, targets: [{ model: bad }], fallbacks: [good], cooldown: { failures: 2, seconds: 2 } });
    const key = await createKey(gw, { name: 'routes-cooldown' });
    const client = openai(key.key);

    const call = async () => {
        const { data, response } = await client.chat.completions.create({ model: route, messages: MESSAGES }).withResponse();
        assert.equal(data.choices[0].message.content, EIGHT_WORDS);
        assert.equal(response.headers.get('x-tollgate-model'), good);
        return Number(response.headers.get('x-tollgate-attempts'));
    };

    assert.equal(await call(), 2, 'call 1: the bad target fails, the fallback answers');
    assert.equal(await call(), 2, 'call 2: the second failure in a row opens the cooldown');
    assert.equal(await call(), 1, 'call 3: the cooling target is skipped');
    await sleep(2_300);
    assert.equal(await call(), 2, 'call 4: after the cooldown the bad target is tried again');

    const rows = await usageByRouteAndModel(key.id, 7);
    assert.deepEqual(rows, { [`${route} ${bad}`]: 3, [`${route} ${good}`]: 4 });
});
