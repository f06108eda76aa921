using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// The official OpenAI .NET SDK calling a route whose first target fails (429 or 500) on an <c>openai</c> provider and
/// whose fallback is an <c>anthropic</c> provider: the gateway translates the call to Anthropic Messages and the answer
/// back, streaming and tool calls included. Both providers are the test's mock, registered under each kind.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RouteSdkTests(GatewayHost host)
{
    private const string EightWords = "Tollgate meters every token that passes through the";
    private const string ToolResult = "sunny, 21 degrees";

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool(
        "get_weather",
        "The current weather in a city",
        BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));

    [Fact]
    public async Task A_429_falls_back_to_the_anthropic_provider_and_the_SDK_gets_a_chat_completion()
    {
        var (route, failing, fallback) = await RouteAsync("429");
        var (id, key) = await host.CreateKey();
        var headers = new ResponseHeaders();

        ChatCompletion completion = await Client(key, headers).GetChatClient(route).CompleteChatAsync([new UserChatMessage("Hello")]);

        Assert.Equal(EightWords, Assert.Single(completion.Content).Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(12, completion.Usage.InputTokenCount);
        Assert.Equal(8, completion.Usage.OutputTokenCount);
        headers.AssertRouted(route, fallback, attempts: 2);
        await AssertAttemptsAsync(id, (failing, 429), (fallback, 200));
    }

    [Fact]
    public async Task A_500_falls_back_to_the_anthropic_provider_and_the_SDK_streams_the_answer()
    {
        var (route, failing, fallback) = await RouteAsync("500");
        var (id, key) = await host.CreateKey();
        var headers = new ResponseHeaders();
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in Client(key, headers).GetChatClient(route).CompleteChatStreamingAsync([new UserChatMessage("Hello")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            Assert.Empty(update.ToolCallUpdates);
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal(EightWords, text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage); // the SDK asks for stream usage; the translated stream must carry it
        Assert.Equal(12, usage.InputTokenCount);
        Assert.Equal(8, usage.OutputTokenCount);
        headers.AssertRouted(route, fallback, attempts: 2);
        await AssertAttemptsAsync(id, (failing, 502), (fallback, 200)); // an upstream 5xx is recorded as the 502 a client would get
    }

    [Fact]
    public async Task A_two_turn_tool_call_goes_through_the_translated_fallback()
    {
        var (route, _, fallback) = await RouteAsync("429");
        var (id, key) = await host.CreateKey();
        var headers = new ResponseHeaders();
        var chat = Client(key, headers).GetChatClient(route);
        var options = new ChatCompletionOptions { Tools = { Weather } };
        List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];

        ChatCompletion first = await chat.CompleteChatAsync(messages, options);

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal(ChatToolCallKind.Function, call.Kind);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.False(string.IsNullOrEmpty(call.Id));
        Assert.Equal("Paris", JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("city").GetString());
        headers.AssertRouted(route, fallback, attempts: 2);

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, ToolResult));
        ChatCompletion second = await chat.CompleteChatAsync(messages, options);

        Assert.Equal(ChatFinishReason.Stop, second.FinishReason);
        Assert.Empty(second.ToolCalls);
        Assert.Contains(ToolResult, Assert.Single(second.Content).Text, StringComparison.Ordinal);
        headers.AssertRouted(route, fallback, attempts: 2);
        Assert.Equal(4, (await host.WaitForRecords(id, 4)).Count); // two calls, two attempts each
    }

    [Fact]
    public async Task A_streamed_two_turn_tool_call_goes_through_the_translated_fallback()
    {
        var (route, _, fallback) = await RouteAsync("500");
        var (_, key) = await host.CreateKey();
        var headers = new ResponseHeaders();
        var chat = Client(key, headers).GetChatClient(route);
        var options = new ChatCompletionOptions { Tools = { Weather } };
        List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];

        string? callId = null, name = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
        {
            Assert.DoesNotContain(update.ContentUpdate, p => p.Text.Length > 0);
            foreach (var toolCall in update.ToolCallUpdates)
            {
                Assert.Equal(0, toolCall.Index);
                callId ??= toolCall.ToolCallId;
                name ??= toolCall.FunctionName;
                arguments.Append(toolCall.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("get_weather", name);
        Assert.False(string.IsNullOrEmpty(callId));
        Assert.Equal("""{"city":"Paris"}""", arguments.ToString());
        headers.AssertRouted(route, fallback, attempts: 2);

        messages.Add(new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall(callId, name, BinaryData.FromString(arguments.ToString()))]));
        messages.Add(new ToolChatMessage(callId, ToolResult));
        var text = new StringBuilder();
        finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
        {
            Assert.Empty(update.ToolCallUpdates);
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Contains(ToolResult, text.ToString(), StringComparison.Ordinal);
        headers.AssertRouted(route, fallback, attempts: 2);
    }

    /// <summary>
    /// A route whose target is an <c>openai</c> provider failing with <paramref name="status"/> and whose fallback is an
    /// <c>anthropic</c> provider; both are the mock. Returns the route's name, its failing target and its fallback.
    /// </summary>
    private async Task<(string Route, string Failing, string Fallback)> RouteAsync(string status)
    {
        var unique = Guid.NewGuid().ToString("N")[..8];
        var (openai, anthropic) = ("oai-" + unique, "anth-" + unique);
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name = openai, kind = "openai", base_url = host.Mock.BaseUrl + "/v1", api_key = "sk-mock" })).EnsureSuccessStatusCode();
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name = anthropic, kind = "anthropic", base_url = host.Mock.BaseUrl + "/v1", api_key = "sk-mock" })).EnsureSuccessStatusCode();
        var (failing, fallback) = ($"{openai}/fail-{status}-sdk", $"{anthropic}/claude-fallback");
        var route = "sdk-route-" + unique;
        (await host.Admin(HttpMethod.Post, "/admin/routes", new
        {
            name = route,
            targets = new[] { new { model = failing } },
            fallbacks = new[] { fallback },
            retry = new { attempts = 1, backoff_ms = 0 },
            cooldown = new { failures = 100, seconds = 1 },
        })).EnsureSuccessStatusCode();
        return (route, failing, fallback);
    }

    /// <summary>The call's records: one per attempt, in order, with the target each went to and its recorded status.</summary>
    private async Task AssertAttemptsAsync(string keyId, params (string Model, int Status)[] attempts)
    {
        var records = (await host.WaitForRecords(keyId, attempts.Length)).OrderBy(r => r.Long("attempt")).ToList();
        Assert.Equal(attempts, records.Select(r => (r.Text("requested_model")!, (int)r.Long("status"))));
        Assert.Single(records.Select(r => r.Text("request_id")).Distinct());
        Assert.All(records, r => Assert.StartsWith("sdk-route-", r.Text("route"), StringComparison.Ordinal));
        Assert.Equal([1L, 2L], records.Select(r => r.Long("attempt")));
        Assert.Equal(["weight", "fallback"], records.Select(r => r.Text("routing_reason")));
        Assert.StartsWith("upstream_", records[0].Text("error_class"), StringComparison.Ordinal);
        Assert.Equal(8, records[^1].Long("output_tokens"));
    }

    private OpenAIClient Client(string key, ResponseHeaders headers)
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(host.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(0) };
        options.AddPolicy(headers, PipelinePosition.PerCall);
        return new OpenAIClient(new ApiKeyCredential(key), options);
    }

    /// <summary>Keeps the routing headers of the last response the SDK received (streams included: headers come first).</summary>
    private sealed class ResponseHeaders : PipelinePolicy
    {
        private static readonly string[] Names = ["X-Tollgate-Route", "X-Tollgate-Model", "X-Tollgate-Attempts"];

        private readonly Dictionary<string, string?> _last = new(StringComparer.OrdinalIgnoreCase);

        public void AssertRouted(string route, string model, int attempts)
        {
            Assert.Equal(route, _last.GetValueOrDefault("X-Tollgate-Route"));
            Assert.Equal(model, _last.GetValueOrDefault("X-Tollgate-Model"));
            Assert.Equal(attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), _last.GetValueOrDefault("X-Tollgate-Attempts"));
        }

        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            ProcessNext(message, pipeline, currentIndex);
            Keep(message);
        }

        public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            await ProcessNextAsync(message, pipeline, currentIndex);
            Keep(message);
        }

        private void Keep(PipelineMessage message)
        {
            _last.Clear();
            foreach (var name in Names)
            {
                _last[name] = message.Response?.Headers.TryGetValue(name, out var value) == true ? value : null;
            }
        }
    }
}
