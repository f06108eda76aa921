using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The official OpenAI .NET SDK, unchanged but for its endpoint, through a listening gateway to the mock.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAiSdkTests(GatewayHost host)
{
    private const string EightWords = "Tollgate meters every token that passes through the";

    private OpenAIClient Client(string key, params (string Name, string Value)[] headers)
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(host.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(0) };
        options.AddPolicy(new HeaderPolicy(headers), PipelinePosition.PerCall);
        return new OpenAIClient(new ApiKeyCredential(key), options);
    }

    [Fact]
    public async Task Chat_completion_returns_the_providers_answer_and_is_metered_exactly()
    {
        var (id, key) = await host.CreateKey();
        var chat = Client(key, ("x-mock-prompt-tokens", "1000"), ("x-mock-cached-tokens", "400"), ("x-mock-reasoning-tokens", "3")).GetChatClient("mock/echo");

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hello")]);

        Assert.Equal("Tollgate meters every token that", completion.Content[0].Text); // 8 output tokens, 3 of them reasoning
        Assert.Equal(1000, completion.Usage.InputTokenCount);
        Assert.Equal(8, completion.Usage.OutputTokenCount);
        Assert.Equal(400, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenDetails.ReasoningTokenCount);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(1000, record.Long("input_tokens"));
        Assert.Equal(400, record.Long("cached_tokens"));
        Assert.Equal(8, record.Long("output_tokens"));
        Assert.Equal(3, record.Long("reasoning_tokens"));
        // 600 uncached × 1.00 + 400 cached × 0.10 + 8 output × 2.00, per million
        Assert.Equal(0.000656m, record.Cost);
        Assert.False(record.Estimated);
        Assert.Equal("mock/echo", record.Text("requested_model"));
        Assert.Equal("echo", record.Text("served_model"));
        Assert.Equal(200, record.Long("status"));
    }

    [Fact]
    public async Task Streaming_chat_relays_every_token_and_meters_the_stream()
    {
        var (id, key) = await host.CreateKey();
        var chat = Client(key).GetChatClient("mock/echo");
        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;

        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hello")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.Equal(EightWords, text.ToString());
        Assert.NotNull(usage); // the SDK asks for usage itself, so it must see it
        Assert.Equal(12, usage.InputTokenCount);
        Assert.Equal(8, usage.OutputTokenCount);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(1, record.Long("stream"));
        Assert.Equal(12, record.Long("input_tokens"));
        Assert.Equal(8, record.Long("output_tokens"));
        Assert.Equal(0.000028m, record.Cost);
        Assert.NotNull(record["ttft_ms"]);
    }

    [Fact]
    public async Task Embeddings_work_through_the_gateway_and_are_metered()
    {
        var (id, key) = await host.CreateKey();
        var embeddings = Client(key, ("x-mock-prompt-tokens", "30")).GetEmbeddingClient("mock/embed");

        OpenAIEmbeddingCollection result = await embeddings.GenerateEmbeddingsAsync(["first", "second", "third"]);

        Assert.Equal(3, result.Count);
        Assert.All(result, e => Assert.Equal(8, e.ToFloats().Length));
        Assert.Equal(30, result.Usage.InputTokenCount);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal("embeddings", record.Text("operation"));
        Assert.Equal(30, record.Long("input_tokens"));
        Assert.Equal(0, record.Long("output_tokens"));
        Assert.Equal(0.00003m, record.Cost);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_with_the_SDKs_authentication_error()
    {
        var (id, key) = await host.CreateKey();
        (await host.Admin(HttpMethod.Delete, "/admin/keys/" + id)).EnsureSuccessStatusCode();

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client(key).GetChatClient("mock/echo").CompleteChatAsync([new UserChatMessage("Hello")]));

        Assert.Equal(401, error.Status);
        Assert.Contains("invalid_api_key", error.Message, StringComparison.Ordinal);
        Assert.Empty(await host.Records(id));
    }

    private sealed class HeaderPolicy((string Name, string Value)[] headers) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Add(message);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Add(message);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }

        private void Add(PipelineMessage message)
        {
            foreach (var (name, value) in headers)
            {
                message.Request.Headers.Set(name, value);
            }
        }
    }
}
