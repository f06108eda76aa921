using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Tollgate.MockProvider;

/// <summary>
/// A deterministic LLM provider speaking OpenAI Chat Completions and Embeddings and Anthropic Messages,
/// streaming and not, tool calls included (<see cref="MockTools"/>). Usage and latency come from <see cref="MockOptions"/> and the request's <c>x-mock-*</c> headers.
/// </summary>
internal static class MockProviderEndpoints
{
    public static IEndpointRouteBuilder MapMockProvider(this IEndpointRouteBuilder app, MockOptions options, MockRequestLog log)
    {
        app.MapPost("/v1/chat/completions", (HttpContext context) => ChatAsync(context, options, log));
        app.MapPost("/v1/embeddings", (HttpContext context) => EmbeddingsAsync(context, options, log));
        app.MapPost("/v1/messages", (HttpContext context) => MessagesAsync(context, options, log));
        app.MapGet("/_mock/stats", () => Results.Json(new { requests = log.Count }));
        app.MapGet("/v1/models", () => Results.Json(new
        {
            @object = "list",
            data = Models.Select(id => new { id, @object = "model", created = 1_700_000_000, owned_by = "mock" }),
        }));
        return app;
    }

    private static readonly string[] Models = ["echo", "small", "large", "embed"];

    private static async Task ChatAsync(HttpContext context, MockOptions options, MockRequestLog log)
    {
        using var body = await ReadAsync(context, log);
        if (body is null)
        {
            return;
        }

        var root = body.RootElement;
        var model = root.TryGetProperty("model", out var m) ? m.GetString() ?? "" : "";
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var includeUsage = root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
        var plan = MockPlan.From(context.Request, options, MaxTokens(root, "max_completion_tokens") ?? MaxTokens(root, "max_tokens"), root);
        if (await FailOrWaitAsync(context, plan, anthropic: false))
        {
            return;
        }

        var id = "chatcmpl-mock" + log.Count.ToString(CultureInfo.InvariantCulture);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var turn = MockTools.ForChat(root);
        var callId = MockTools.CallId("call_mock", log.Count);
        var finish = turn.IsCall ? "tool_calls" : plan.Truncated ? "length" : "stop";
        if (!stream)
        {
            await WriteJsonAsync(context, w =>
            {
                ChatEnvelope(w, id, created, model, "chat.completion");
                w.WriteStartArray("choices");
                w.WriteStartObject();
                w.WriteNumber("index", 0);
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                if (turn.IsCall)
                {
                    w.WriteNull("content");
                    w.WriteStartArray("tool_calls");
                    w.WriteStartObject();
                    w.WriteString("id", callId);
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteString("name", turn.ToolName);
                    w.WriteString("arguments", turn.Arguments);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndArray();
                }
                else
                {
                    w.WriteString("content", turn.Text ?? plan.Text());
                }

                w.WriteNull("refusal");
                w.WriteEndObject();
                w.WriteNull("logprobs");
                w.WriteString("finish_reason", finish);
                w.WriteEndObject();
                w.WriteEndArray();
                ChatUsage(w, plan);
                w.WriteEndObject();
            });
            return;
        }

        StartSse(context);
        var chunks = 0;
        async Task<bool> ChunkAsync(string? content, string? role, string? finishReason, bool usage, Action<Utf8JsonWriter>? toolCalls = null)
        {
            if (plan.AbortAfterChunks is { } abort && chunks >= abort)
            {
                context.Abort();
                return false;
            }

            chunks++;
            await WriteSseAsync(context, null, w =>
            {
                ChatEnvelope(w, id, created, model, "chat.completion.chunk");
                w.WriteStartArray("choices");
                if (!usage)
                {
                    w.WriteStartObject();
                    w.WriteNumber("index", 0);
                    w.WriteStartObject("delta");
                    if (role is not null)
                    {
                        w.WriteString("role", role);
                    }

                    if (content is not null)
                    {
                        w.WriteString("content", content);
                    }
                    else if (role is not null && toolCalls is not null)
                    {
                        w.WriteNull("content");
                    }

                    if (toolCalls is not null)
                    {
                        w.WriteStartArray("tool_calls");
                        w.WriteStartObject();
                        w.WriteNumber("index", 0);
                        toolCalls(w);
                        w.WriteEndObject();
                        w.WriteEndArray();
                    }

                    w.WriteEndObject();
                    w.WriteNull("logprobs");
                    if (finishReason is null)
                    {
                        w.WriteNull("finish_reason");
                    }
                    else
                    {
                        w.WriteString("finish_reason", finishReason);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                if (usage)
                {
                    ChatUsage(w, plan);
                }
                else if (includeUsage)
                {
                    w.WriteNull("usage");
                }

                w.WriteEndObject();
            });
            await DelayAsync(plan.ChunkDelayMs, context);
            return true;
        }

        if (turn.IsCall)
        {
            // As OpenAI streams a call: the first delta names it (id, type, name, empty arguments), the next ones carry argument fragments.
            if (!await ChunkAsync(null, "assistant", null, false, w =>
            {
                w.WriteString("id", callId);
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", turn.ToolName);
                w.WriteString("arguments", "");
                w.WriteEndObject();
            }))
            {
                return;
            }

            foreach (var fragment in MockTools.Fragments(turn.Arguments!))
            {
                if (!await ChunkAsync(null, null, null, false, w =>
                {
                    w.WriteStartObject("function");
                    w.WriteString("arguments", fragment);
                    w.WriteEndObject();
                }))
                {
                    return;
                }
            }
        }
        else
        {
            if (!await ChunkAsync("", "assistant", null, false))
            {
                return;
            }

            foreach (var word in turn.Text is { } text ? MockTools.Words(text) : plan.Words())
            {
                if (!await ChunkAsync(word, null, null, false))
                {
                    return;
                }
            }
        }

        if (!await ChunkAsync(null, null, finish, false) || (includeUsage && !await ChunkAsync(null, null, null, true)))
        {
            return;
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    private static async Task EmbeddingsAsync(HttpContext context, MockOptions options, MockRequestLog log)
    {
        using var body = await ReadAsync(context, log);
        if (body is null)
        {
            return;
        }

        var root = body.RootElement;
        var model = root.TryGetProperty("model", out var m) ? m.GetString() ?? "" : "";
        // Each vector follows from its input's text, so a test can tell which input a vector belongs to.
        var texts = root.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Array && input.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number)
            ? [.. input.EnumerateArray().Select(e => e.GetRawText())]
            : new[] { input.ValueKind == JsonValueKind.Undefined ? "" : input.GetRawText() };
        var inputs = texts.Length;
        var base64 = root.TryGetProperty("encoding_format", out var ef) && ef.GetString() == "base64";
        var dimensions = root.TryGetProperty("dimensions", out var d) && d.TryGetInt32(out var dims) ? dims : options.EmbeddingDimensions;
        var plan = MockPlan.From(context.Request, options, null, root);
        if (await FailOrWaitAsync(context, plan, anthropic: false))
        {
            return;
        }

        await WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (var i = 0; i < inputs; i++)
            {
                var vector = new float[dimensions];
                for (var j = 0; j < dimensions; j++)
                {
                    vector[j] = (float)Math.Sin(Seed(texts[i]) + j + 1);
                }

                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                if (base64)
                {
                    var bytes = new byte[dimensions * sizeof(float)];
                    Buffer.BlockCopy(vector, 0, bytes, 0, bytes.Length);
                    w.WriteString("embedding", Convert.ToBase64String(bytes));
                }
                else
                {
                    w.WriteStartArray("embedding");
                    foreach (var v in vector)
                    {
                        w.WriteNumberValue(v);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("model", model);
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", plan.PromptTokens);
            w.WriteNumber("total_tokens", plan.PromptTokens);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    /// <summary>A stable number from a text (string.GetHashCode differs per process).</summary>
    internal static int Seed(string text)
    {
        var seed = 17;
        foreach (var c in text)
        {
            seed = unchecked((seed * 31) + c) % 100_003;
        }

        return seed;
    }

    private static async Task MessagesAsync(HttpContext context, MockOptions options, MockRequestLog log)
    {
        using var body = await ReadAsync(context, log);
        if (body is null)
        {
            return;
        }

        var root = body.RootElement;
        var model = root.TryGetProperty("model", out var m) ? m.GetString() ?? "" : "";
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var plan = MockPlan.From(context.Request, options, MaxTokens(root, "max_tokens"), root);
        if (await FailOrWaitAsync(context, plan, anthropic: true))
        {
            return;
        }

        var id = "msg_mock" + log.Count.ToString(CultureInfo.InvariantCulture);
        var turn = MockTools.ForMessages(root);
        var toolUseId = MockTools.CallId("toolu_mock", log.Count);
        var stop = turn.IsCall ? "tool_use" : plan.Truncated ? "max_tokens" : "end_turn";
        if (!stream)
        {
            await WriteJsonAsync(context, w =>
            {
                MessageStart(w, id, model, plan, turn.IsCall ? null : turn.Text ?? plan.Text(), stop, plan.CompletionTokens, turn.IsCall ? (turn.ToolName!, toolUseId, turn.Arguments!) : null);
            });
            return;
        }

        StartSse(context);
        var chunks = 0;
        async Task<bool> EventAsync(string type, Action<Utf8JsonWriter> write)
        {
            if (plan.AbortAfterChunks is { } abort && chunks >= abort)
            {
                context.Abort();
                return false;
            }

            chunks++;
            await WriteSseAsync(context, type, w =>
            {
                w.WriteStartObject();
                w.WriteString("type", type);
                write(w);
                w.WriteEndObject();
            });
            await DelayAsync(plan.ChunkDelayMs, context);
            return true;
        }

        if (!await EventAsync("message_start", w =>
        {
            w.WritePropertyName("message");
            MessageStart(w, id, model, plan, null, null, 1);
        }))
        {
            return;
        }

        if (!await EventAsync("content_block_start", w =>
        {
            w.WriteNumber("index", 0);
            w.WriteStartObject("content_block");
            if (turn.IsCall)
            {
                w.WriteString("type", "tool_use");
                w.WriteString("id", toolUseId);
                w.WriteString("name", turn.ToolName);
                w.WriteStartObject("input");
                w.WriteEndObject();
            }
            else
            {
                w.WriteString("type", "text");
                w.WriteString("text", "");
            }

            w.WriteEndObject();
        }) || !await EventAsync("ping", _ => { }))
        {
            return;
        }

        // A tool_use block streams its input as input_json_delta fragments (the first one empty, as Anthropic sends it), a text block as text_delta words.
        var deltas = turn.IsCall
            ? MockTools.Fragments(turn.Arguments!).Prepend("").Select(f => ("input_json_delta", "partial_json", f))
            : (turn.Text is { } text ? MockTools.Words(text) : plan.Words()).Select(word => ("text_delta", "text", word));
        foreach (var (deltaType, field, value) in deltas)
        {
            if (!await EventAsync("content_block_delta", w =>
            {
                w.WriteNumber("index", 0);
                w.WriteStartObject("delta");
                w.WriteString("type", deltaType);
                w.WriteString(field, value);
                w.WriteEndObject();
            }))
            {
                return;
            }
        }

        _ = await EventAsync("content_block_stop", w => w.WriteNumber("index", 0))
            && await EventAsync("message_delta", w =>
            {
                w.WriteStartObject("delta");
                w.WriteString("stop_reason", stop);
                w.WriteNull("stop_sequence");
                w.WriteEndObject();
                w.WriteStartObject("usage");
                w.WriteNumber("output_tokens", plan.CompletionTokens);
                w.WriteEndObject();
            })
            && await EventAsync("message_stop", _ => { });
    }

    private static void MessageStart(Utf8JsonWriter w, string id, string model, MockPlan plan, string? text, string? stop, int outputTokens, (string Name, string Id, string Input)? toolUse = null)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", model);
        w.WriteStartArray("content");
        if (text is not null)
        {
            w.WriteStartObject();
            w.WriteString("type", "text");
            w.WriteString("text", text);
            w.WriteEndObject();
        }

        if (toolUse is { } call)
        {
            w.WriteStartObject();
            w.WriteString("type", "tool_use");
            w.WriteString("id", call.Id);
            w.WriteString("name", call.Name);
            w.WritePropertyName("input");
            w.WriteRawValue(call.Input);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (stop is null)
        {
            w.WriteNull("stop_reason");
        }
        else
        {
            w.WriteString("stop_reason", stop);
        }

        w.WriteNull("stop_sequence");
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", plan.PromptTokens - plan.CachedTokens - plan.CacheWriteTokens);
        w.WriteNumber("cache_creation_input_tokens", plan.CacheWriteTokens);
        w.WriteNumber("cache_read_input_tokens", plan.CachedTokens);
        w.WriteNumber("output_tokens", outputTokens);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void ChatEnvelope(Utf8JsonWriter w, string id, long created, string model, string type)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", type);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteString("system_fingerprint", "fp_mock");
    }

    private static void ChatUsage(Utf8JsonWriter w, MockPlan plan)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", plan.PromptTokens);
        w.WriteNumber("completion_tokens", plan.CompletionTokens);
        w.WriteNumber("total_tokens", plan.PromptTokens + plan.CompletionTokens);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", plan.CachedTokens);
        w.WriteNumber("audio_tokens", 0);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details");
        w.WriteNumber("reasoning_tokens", plan.ReasoningTokens);
        w.WriteNumber("audio_tokens", 0);
        w.WriteNumber("accepted_prediction_tokens", 0);
        w.WriteNumber("rejected_prediction_tokens", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static int? MaxTokens(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.TryGetInt32(out var n) ? n : null;

    private static async Task<JsonDocument?> ReadAsync(HttpContext context, MockRequestLog log)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        log.Add(context.Request, buffer.ToArray());
        try
        {
            return JsonDocument.Parse(buffer.ToArray());
        }
        catch (JsonException)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "mock: malformed JSON", type = "invalid_request_error", code = "invalid_json", param = (string?)null } });
            return null;
        }
    }

    /// <summary>Answers with the error the request asked for, or waits the planned latency. True when the response is done.</summary>
    private static async Task<bool> FailOrWaitAsync(HttpContext context, MockPlan plan, bool anthropic)
    {
        await DelayAsync(plan.LatencyMs, context);
        if (plan.Status is not { } status || status < 400)
        {
            return false;
        }

        context.Response.StatusCode = status;
        var message = plan.ContextTooLong
            ? (anthropic ? "prompt is too long: 250000 tokens > 200000 maximum" : "This model's maximum context length is 8192 tokens.")
            : "mock: failure requested with x-mock-status " + status.ToString(CultureInfo.InvariantCulture);
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            if (anthropic)
            {
                w.WriteString("type", "error");
                w.WriteStartObject("error");
                w.WriteString("type", status >= 500 ? "api_error" : "invalid_request_error");
                w.WriteString("message", message);
                w.WriteEndObject();
            }
            else
            {
                w.WriteStartObject("error");
                w.WriteString("message", message);
                w.WriteString("type", status >= 500 ? "server_error" : "invalid_request_error");
                w.WriteString("code", plan.ContextTooLong ? "context_length_exceeded" : "mock_failure");
                w.WriteNull("param");
                w.WriteEndObject();
            }

            w.WriteEndObject();
        });
        return true;
    }

    private static Task DelayAsync(int milliseconds, HttpContext context) =>
        milliseconds > 0 ? Task.Delay(milliseconds, context.RequestAborted) : Task.CompletedTask;

    private static void StartSse(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private static async Task WriteSseAsync(HttpContext context, string? eventName, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        if (eventName is not null)
        {
            buffer.Write(Encoding.UTF8.GetBytes("event: " + eventName + "\n"));
        }

        buffer.Write("data: "u8);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        buffer.Write("\n\n"u8);
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}

/// <summary>What the mock received, so tests can check what the gateway forwarded (and what it did not).</summary>
internal sealed class MockRequestLog
{
    private readonly ConcurrentQueue<MockRequest> _requests = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public IReadOnlyCollection<MockRequest> Requests => _requests;

    public MockRequest? Last { get; private set; }

    internal void Add(HttpRequest request, byte[] body)
    {
        var entry = new MockRequest(
            request.Path.Value ?? "",
            request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body);
        Interlocked.Increment(ref _count);
        Last = entry;
        if (_requests.Count < 10_000)
        {
            _requests.Enqueue(entry);
        }
    }
}

internal sealed record MockRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body);
