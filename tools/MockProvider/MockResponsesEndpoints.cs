using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Tollgate.MockProvider;

/// <summary>
/// The OpenAI Responses API, deterministic like the rest of the mock: text answers, function calls when the request
/// offers function tools and carries no tool output yet, streaming events in the documented order, and the
/// follow-up endpoints over an in-memory store.
/// </summary>
internal static class MockResponsesEndpoints
{
    public static IEndpointRouteBuilder MapMockResponses(this IEndpointRouteBuilder app, MockOptions options, MockRequestLog log)
    {
        var store = new ConcurrentDictionary<string, JsonObject>(StringComparer.Ordinal);
        var order = new ConcurrentQueue<string>();
        app.MapPost("/v1/responses", (HttpContext context) => CreateAsync(context, options, log, store, order));
        app.MapGet("/v1/responses/{id}", (string id, HttpContext context) => Logged(context, log, () =>
            store.TryGetValue(id, out var response) ? Results.Text(response.ToJsonString(), "application/json") : NotFound(id)));
        app.MapDelete("/v1/responses/{id}", (string id, HttpContext context) => Logged(context, log, () =>
            store.TryRemove(id, out _) ? Results.Json(new { id, @object = "response.deleted", deleted = true }) : NotFound(id)));
        app.MapPost("/v1/responses/{id}/cancel", (string id, HttpContext context) => Logged(context, log, () =>
        {
            if (!store.TryGetValue(id, out var response))
            {
                return NotFound(id);
            }

            response["status"] = "cancelled";
            return Results.Text(response.ToJsonString(), "application/json");
        }));
        app.MapGet("/v1/responses/{id}/input_items", (string id, HttpContext context) => Logged(context, log, () =>
            store.ContainsKey(id) ? Results.Json(new { @object = "list", data = Array.Empty<object>(), first_id = (string?)null, last_id = (string?)null, has_more = false }) : NotFound(id)));
        return app;
    }

    private static IResult Logged(HttpContext context, MockRequestLog log, Func<IResult> answer)
    {
        log.Add(context.Request, []);
        return answer();
    }

    private static IResult NotFound(string id) =>
        Results.Json(new { error = new { message = $"No response found with id '{id}'.", type = "invalid_request_error", param = (string?)null, code = (string?)null } }, statusCode: 404);

    private static async Task CreateAsync(HttpContext context, MockOptions options, MockRequestLog log, ConcurrentDictionary<string, JsonObject> store, ConcurrentQueue<string> order)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        log.Add(context.Request, buffer.ToArray());
        JsonObject request;
        try
        {
            request = JsonNode.Parse(buffer.ToArray())?.AsObject() ?? throw new JsonException();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "mock: malformed JSON", type = "invalid_request_error", code = "invalid_json", param = (string?)null } });
            return;
        }

        var maxOutput = request["max_output_tokens"] is JsonValue v && v.TryGetValue<int>(out var max) ? max : (int?)null;
        var plan = MockPlan.From(context.Request, options, maxOutput);
        if (plan.LatencyMs > 0)
        {
            await Task.Delay(plan.LatencyMs, context.RequestAborted);
        }

        if (plan.Status is >= 400 and var status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "mock: failure requested with x-mock-status " + status.ToString(CultureInfo.InvariantCulture), type = status >= 500 ? "server_error" : "invalid_request_error", code = "mock_failure", param = (string?)null } });
            return;
        }

        var n = log.Count.ToString(CultureInfo.InvariantCulture);
        var id = "resp_mock" + n;
        var call = FunctionToCall(request);
        var failed = context.Request.Headers["x-mock-response-status"] == "failed";
        var final = Response(request, id, plan, call is null ? MessageItem(n, plan.Text()) : call.Invoke(n), failed ? "failed" : plan.Truncated ? "incomplete" : "completed", usage: true);
        if (!failed)
        {
            store[id] = final;
            // Bounded, so a benchmark does not grow the mock without end.
            order.Enqueue(id);
            while (order.Count > 10_000 && order.TryDequeue(out var oldest))
            {
                store.TryRemove(oldest, out _);
            }
        }

        if (request["stream"]?.GetValueKind() != JsonValueKind.True)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(final.ToJsonString(), context.RequestAborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var sequence = 0;
        var sent = 0;
        async Task<bool> Send(string type, JsonObject payload)
        {
            if (plan.AbortAfterChunks is { } abort && sent >= abort)
            {
                context.Abort();
                return false;
            }

            sent++;
            payload["type"] = type;
            payload["sequence_number"] = sequence++;
            var text = "event: " + type + "\ndata: " + payload.ToJsonString() + "\n\n";
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            if (plan.ChunkDelayMs > 0)
            {
                await Task.Delay(plan.ChunkDelayMs, context.RequestAborted);
            }

            return true;
        }

        var inProgress = Response(request, id, plan, null, "in_progress", usage: false);
        if (!await Send("response.created", new JsonObject { ["response"] = inProgress.DeepClone() })
            || !await Send("response.in_progress", new JsonObject { ["response"] = inProgress.DeepClone() }))
        {
            return;
        }

        var item = final["output"]![0]!.AsObject();
        var itemId = item["id"]!.GetValue<string>();
        // The added item starts empty, as the real API sends it: text and arguments arrive as deltas.
        var added = item.DeepClone().AsObject();
        added["status"] = "in_progress";
        if (call is not null)
        {
            added["arguments"] = "";
        }
        else
        {
            added["content"] = new JsonArray();
        }

        if (!await Send("response.output_item.added", new JsonObject { ["output_index"] = 0, ["item"] = added }))
        {
            return;
        }

        if (call is not null)
        {
            var arguments = item["arguments"]!.GetValue<string>();
            if (!await Send("response.function_call_arguments.delta", new JsonObject { ["item_id"] = itemId, ["output_index"] = 0, ["delta"] = arguments })
                || !await Send("response.function_call_arguments.done", new JsonObject { ["item_id"] = itemId, ["output_index"] = 0, ["arguments"] = arguments }))
            {
                return;
            }
        }
        else
        {
            var part = new JsonObject { ["type"] = "output_text", ["text"] = "", ["annotations"] = new JsonArray() };
            if (!await Send("response.content_part.added", new JsonObject { ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["part"] = part }))
            {
                return;
            }

            foreach (var word in plan.Words())
            {
                if (!await Send("response.output_text.delta", new JsonObject { ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["delta"] = word, ["logprobs"] = new JsonArray() }))
                {
                    return;
                }
            }

            var text = plan.Text();
            if (!await Send("response.output_text.done", new JsonObject { ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["text"] = text, ["logprobs"] = new JsonArray() })
                || !await Send("response.content_part.done", new JsonObject { ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["part"] = new JsonObject { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() } }))
            {
                return;
            }
        }

        if (!await Send("response.output_item.done", new JsonObject { ["output_index"] = 0, ["item"] = item.DeepClone() }))
        {
            return;
        }

        var terminal = final["status"]!.GetValue<string>() switch
        {
            "failed" => "response.failed",
            "incomplete" => "response.incomplete",
            _ => "response.completed",
        };
        await Send(terminal, new JsonObject { ["response"] = final.DeepClone() });
    }

    private static JsonObject Response(JsonObject request, string id, MockPlan plan, JsonObject? item, string status, bool usage)
    {
        var response = new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["status"] = status,
            ["background"] = false,
            ["error"] = status == "failed" ? new JsonObject { ["code"] = "server_error", ["type"] = "server_error", ["message"] = "mock: the response failed" } : null,
            ["incomplete_details"] = status == "incomplete" ? new JsonObject { ["reason"] = "max_output_tokens" } : null,
            ["instructions"] = request["instructions"]?.DeepClone(),
            ["max_output_tokens"] = request["max_output_tokens"]?.DeepClone(),
            ["model"] = request["model"]?.DeepClone(),
            ["output"] = item is null ? new JsonArray() : new JsonArray(item),
            ["parallel_tool_calls"] = true,
            ["previous_response_id"] = request["previous_response_id"]?.DeepClone(),
            ["reasoning"] = new JsonObject { ["effort"] = null, ["summary"] = null },
            ["store"] = request["store"]?.DeepClone() ?? true,
            ["temperature"] = 1.0,
            ["text"] = new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
            ["tool_choice"] = "auto",
            ["tools"] = request["tools"]?.DeepClone() ?? new JsonArray(),
            ["top_p"] = 1.0,
            ["truncation"] = "disabled",
            ["usage"] = usage ? new JsonObject
            {
                ["input_tokens"] = plan.PromptTokens,
                ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = plan.CachedTokens },
                ["output_tokens"] = plan.CompletionTokens,
                ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = plan.ReasoningTokens },
                ["total_tokens"] = plan.PromptTokens + plan.CompletionTokens,
            } : null,
            ["user"] = null,
            ["metadata"] = new JsonObject(),
        };
        return response;
    }

    private static JsonObject MessageItem(string n, string text) => new()
    {
        ["id"] = "msg_mock" + n,
        ["type"] = "message",
        ["status"] = "completed",
        ["role"] = "assistant",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() }),
    };

    /// <summary>The first function tool, when the request offers one and has no tool output yet; arguments follow its schema.</summary>
    private static Func<string, JsonObject>? FunctionToCall(JsonObject request)
    {
        if (request["tools"] is not JsonArray tools
            || tools.OfType<JsonObject>().FirstOrDefault(t => t["type"]?.GetValue<string>() == "function") is not { } tool)
        {
            return null;
        }

        if (request["input"] is JsonArray input && input.OfType<JsonObject>().Any(i => i["type"]?.GetValue<string>() == "function_call_output"))
        {
            return null;
        }

        var arguments = new JsonObject();
        if (tool["parameters"]?["properties"] is JsonObject properties)
        {
            foreach (var (property, schema) in properties)
            {
                arguments[property] = schema?["type"]?.GetValue<string>() switch
                {
                    "number" or "integer" => 1,
                    "boolean" => true,
                    "array" => new JsonArray(),
                    "object" => new JsonObject(),
                    _ => "mock",
                };
            }
        }

        var name = tool["name"]?.GetValue<string>() ?? "tool";
        var argumentText = arguments.ToJsonString();
        return n => new JsonObject
        {
            ["id"] = "fc_mock" + n,
            ["type"] = "function_call",
            ["status"] = "completed",
            ["call_id"] = "call_mock" + n,
            ["name"] = name,
            ["arguments"] = argumentText,
        };
    }
}
