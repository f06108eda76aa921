using System.Buffers;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Protocols.Translation;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;
using Translator = Tollgate.Gateway.Protocols.Translation.Translation;

namespace Tollgate.Tests.Protocols.Translation;

/// <summary>Runs a translation and hands back what it wrote as parsed JSON.</summary>
internal static class TranslationKit
{
    public static JsonElement Request(Translator translation, string body, bool drop = false, ProviderKind kind = ProviderKind.OpenAi, int defaultMaxTokens = 4096)
    {
        var error = translation.TranslateRequest(Encoding.UTF8.GetBytes(body), new TranslationOptions("upstream-model", defaultMaxTokens, drop, kind), out var buffer);
        Assert.Null(error);
        Assert.NotNull(buffer);
        using (buffer)
        {
            return Parse(buffer.Span);
        }
    }

    public static TranslationError RequestError(Translator translation, string body, bool drop = false)
    {
        var error = translation.TranslateRequest(Encoding.UTF8.GetBytes(body), new TranslationOptions("upstream-model", 4096, drop), out var buffer);
        Assert.Null(buffer);
        Assert.NotNull(error);
        return error;
    }

    public static JsonElement Response(Translator translation, string body, string clientModel = "route-alias") =>
        Parse(translation.TranslateResponse(Encoding.UTF8.GetBytes(body), clientModel));

    public static JsonElement Error(Translator translation, int status, string body) =>
        Parse(translation.TranslateErrorBody(status, Encoding.UTF8.GetBytes(body)));

    public static JsonElement Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        return JsonElement.ParseValue(ref reader);
    }

    /// <summary>Feeds the events one by one; returns the raw output and whether the stream finished.</summary>
    public static (string Output, StreamTranslator Stream) Stream(Translator translation, IEnumerable<string> events, bool includeUsage = false)
    {
        var stream = translation.CreateStream(includeUsage, "route-alias");
        var output = new ArrayBufferWriter<byte>();
        foreach (var data in events)
        {
            var before = output.WrittenCount;
            stream.OnEvent(Encoding.UTF8.GetBytes(data), output);
            var written = Encoding.UTF8.GetString(output.WrittenSpan[before..]);
            Assert.True(written.Length == 0 || written.EndsWith("\n\n", StringComparison.Ordinal), "every event written is complete: " + written);
        }

        return (Encoding.UTF8.GetString(output.WrittenSpan), stream);
    }

    /// <summary>Chat SSE: the data payloads in order (<c>[DONE]</c> kept as text).</summary>
    public static List<string> ChatData(string sse)
    {
        var events = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.All(events, e => Assert.DoesNotContain('\n', e));
        return [.. events.Select(e => e["data: ".Length..])];
    }

    /// <summary>Chat SSE chunks (without <c>[DONE]</c>) parsed.</summary>
    public static List<JsonElement> ChatChunks(string sse) =>
        [.. ChatData(sse).Where(d => d != "[DONE]").Select(d => Parse(Encoding.UTF8.GetBytes(d)))];

    /// <summary>Anthropic SSE: (event name, data) pairs; the name must equal the data's type.</summary>
    public static List<(string Name, JsonElement Data)> AnthropicEvents(string sse)
    {
        var result = new List<(string, JsonElement)>();
        foreach (var e in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = e.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            var name = lines[0]["event: ".Length..];
            var data = Parse(Encoding.UTF8.GetBytes(lines[1]["data: ".Length..]));
            Assert.Equal(name, data.GetProperty("type").GetString());
            result.Add((name, data));
        }

        return result;
    }

    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;

    public static long Num(this JsonElement e, string name) => e.GetProperty(name).GetInt64();

    public static bool Has(this JsonElement e, string name) => e.TryGetProperty(name, out _);

    public static bool JsonEquals(string expected, string actual) =>
        JsonElement.DeepEquals(Parse(Encoding.UTF8.GetBytes(expected)), Parse(Encoding.UTF8.GetBytes(actual)));
}
