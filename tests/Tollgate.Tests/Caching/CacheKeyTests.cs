using System.Text.Json;
using Tollgate.Gateway.Caching;
using Tollgate.Gateway.Providers;

namespace Tollgate.Tests.Caching;

/// <summary>
/// The cache keys of small bodies, pinned: a change to the canonical JSON would silently turn every stored answer (in
/// Redis, shared by replicas) into a miss, so the bytes it hashes must stay the same.
/// </summary>
public sealed class CacheKeyTests
{
    // Members out of order, spacing, escapes, numbers as written, the ignored members at the top and one of their names nested.
    private const string Chat = """
        { "stream": true, "model": "mock/echo", "user": "u-1", "temperature": 1.50, "metadata": {"a": 1},
          "messages": [ {"role": "system", "content": "Be br\u00efef \/ exact"},
                        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                        {"role": "assistant", "content": "Hello", "name": "bot"},
                        {"role": "user", "content": "What is 2+2?"} ],
          "stream_options": {"include_usage": true}, "tools": [{"type": "function", "function": {"name": "f", "parameters": {"z": 1e2, "a": [], "user": null}}}] }
        """;

    [Fact]
    public void The_exact_key_of_a_small_body_stays_the_same()
    {
        using var document = JsonDocument.Parse(Chat);

        var key = CacheKey.Compute("key:k1", "mock/echo", "/v1/chat/completions", document.RootElement);

        Assert.Equal("DEBEEF8ABB57DD6C7F0426F8A275C785F1C165A30C0E75270AE7CB5D16572719", Convert.ToHexString(key));
    }

    [Fact]
    public void The_semantic_context_of_a_small_body_stays_the_same()
    {
        using var chat = JsonDocument.Parse(Chat);
        using var responses = JsonDocument.Parse("""{"model": "mock/echo", "input": "What is 2+2?", "instructions": "Be brief", "stream": false}""");

        var fromChat = SemanticQuery.Read(WireApi.ChatCompletions, "key:k1", "mock/echo", "/v1/chat/completions", chat.RootElement);
        var fromResponses = SemanticQuery.Read(WireApi.Responses, "key:k1", "mock/echo", "/v1/responses", responses.RootElement);

        Assert.Equal("What is 2+2?", fromChat?.Text);
        Assert.Equal("14A188CD8370F2FA34EBD089F42876B6EC93A0ED1D78DB4DECD6A8DD0283BDB0", Convert.ToHexString(fromChat!.Context));
        Assert.Equal("What is 2+2?", fromResponses?.Text);
        Assert.Equal("50D6184B340601E5BDA8ECA43699C0261C436D7539C68C7DB7D3B7B263826986", Convert.ToHexString(fromResponses!.Context));
    }

    [Fact]
    public async Task The_keys_of_embedding_inputs_stay_the_same()
    {
        using var document = JsonDocument.Parse("""{"model": "mock/embed", "user": "u-1", "input": ["a", [1, 2]], "dimensions": 8, "stream": false, "encoding_format": "float"}""");
        var store = new KeyRecorder();

        await EmbeddingInputs.Read("key:k1", "mock/embed", document.RootElement)!.LookupAsync(store, "key:k1", null, DateTimeOffset.UnixEpoch);

        Assert.Equal(["66B3083E64C0A07CE7F9A66C3436012DCC4E82DFE4767F7B00A6F95C74DA73F5", "6AAE5DBB44B32A69F63197620D914A2AF75EAF7AFB79BA50888C3722129D87B8"], store.Keys);
    }

    /// <summary>A store that finds nothing and remembers the keys it was asked for.</summary>
    private sealed class KeyRecorder : ICacheStore
    {
        public List<string> Keys { get; } = [];

        public ValueTask<CacheEntry?> GetAsync(string ns, byte[] key)
        {
            Keys.Add(Convert.ToHexString(key));
            return ValueTask.FromResult<CacheEntry?>(null);
        }

        public ValueTask SetAsync(string ns, byte[] key, CacheEntry entry, TimeSpan ttl) => ValueTask.CompletedTask;

        public ValueTask<long> PurgeAsync(string? ns) => ValueTask.FromResult(0L);

        public ValueTask<(long Entries, long Bytes)> CountAsync() => ValueTask.FromResult((0L, 0L));
    }
}
