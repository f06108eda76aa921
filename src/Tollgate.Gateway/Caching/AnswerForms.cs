using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols.Translation;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// The two forms of one cached answer. The cache stores one canonical form, the complete non-stream JSON body of the
/// called API; <see cref="FromStream"/> turns a finished stream into it, <see cref="WriteStream"/> turns it back into a
/// well-formed stream of the same API for a streaming hit. Both are pure: bytes in, bytes out.
/// </summary>
internal static partial class AnswerForms
{
    /// <summary>Text pieces are cut at the last word boundary in this window (characters), or at its target without one.</summary>
    private const int PieceMin = 20;
    private const int PieceTarget = 32;
    private const int PieceMax = 40;

    /// <summary>
    /// The complete JSON answer a finished stream amounts to, or null when the stream did not reach its terminal event
    /// (chat: the <c>data: [DONE]</c> line; messages: <c>message_stop</c>; responses: <c>response.completed</c>) or holds
    /// something the JSON form cannot carry (more than one choice, logprobs, an error event, a <c>response.failed</c> or
    /// <c>response.incomplete</c>, a delta of an unknown kind, tool arguments that are not JSON where the API needs JSON).
    /// <paramref name="usage"/> (what the gateway metered) fills the answer's <c>usage</c> when the stream carried none.
    /// </summary>
    public static byte[]? FromStream(WireApi api, ReadOnlySpan<byte> sse, TokenUsage? usage = null)
    {
        var events = DataOf(sse);
        try
        {
            var answer = api switch
            {
                WireApi.ChatCompletions => ChatFromStream(sse, events, usage),
                WireApi.Messages => MessagesFromStream(sse, events, usage),
                WireApi.Responses => ResponsesFromStream(sse, events, usage),
                _ => throw new ArgumentException($"The {api} API has no stream form.", nameof(api)),
            };
            return answer is null ? null : Serialize(answer);
        }
        catch (JsonException)
        {
            return null; // an event that is not JSON: a cut or garbled stream
        }
        catch (InvalidOperationException)
        {
            return null; // a JSON value of an unexpected kind where the API has a fixed one
        }
    }

    /// <summary>
    /// Writes the stored JSON answer as a stream of the same API: SSE lines <c>data: ...</c> each ended by a blank line,
    /// with an <c>event: &lt;type&gt;</c> line before each for Messages and Responses as those providers send them; text and
    /// tool-call arguments come split over several delta events. <paramref name="includeUsage"/> (chat only): end with
    /// the usage chunk (<c>choices: []</c>), as OpenAI does for <c>stream_options.include_usage: true</c>.
    /// Throws <see cref="ArgumentException"/> when <paramref name="json"/> is not a single answer of that API.
    /// </summary>
    public static void WriteStream(WireApi api, ReadOnlySpan<byte> json, bool includeUsage, IBufferWriter<byte> output)
    {
        JsonObject answer;
        try
        {
            answer = JsonNode.Parse(json, documentOptions: Wire.DocumentOptions) as JsonObject
                ?? throw new ArgumentException("The stored answer is not a JSON object.", nameof(json));
        }
        catch (JsonException e)
        {
            throw new ArgumentException("The stored answer is not JSON.", nameof(json), e);
        }

        using var writer = new Utf8JsonWriter(output, Wire.WriterOptions);
        switch (api)
        {
            case WireApi.ChatCompletions:
                WriteChatStream(answer, includeUsage, writer, output);
                break;
            case WireApi.Messages:
                WriteMessagesStream(answer, writer, output);
                break;
            case WireApi.Responses:
                WriteResponsesStream(answer, writer, output);
                break;
            default:
                throw new ArgumentException($"The {api} API has no stream form.", nameof(api));
        }
    }

    /// <summary>
    /// Splits text for delta events: pieces of about <see cref="PieceMin"/>–<see cref="PieceMax"/> characters, each cut
    /// after the whitespace that ends a word; a text shorter than that with two or more words comes in two pieces. A cut
    /// never splits a surrogate pair (UTF-16 here, so never a UTF-8 sequence once written). Empty text has no piece.
    /// </summary>
    internal static List<string> Pieces(string text)
    {
        var pieces = new List<string>();
        var start = 0;
        while (start < text.Length)
        {
            var rest = text.Length - start;
            int cut;
            if (rest <= PieceMax)
            {
                // The last stretch: split a first short text once, near its middle, so it still streams.
                cut = start == 0 ? Boundary(text, start + 1, start + rest - 1, start + (rest / 2)) : -1;
                cut = cut < 0 ? text.Length : cut;
            }
            else
            {
                cut = Boundary(text, start + PieceMin, start + PieceMax, start + PieceMax);
                if (cut < 0)
                {
                    cut = start + PieceTarget;
                    if (char.IsLowSurrogate(text[cut]) && char.IsHighSurrogate(text[cut - 1]))
                    {
                        cut--;
                    }
                }
            }

            pieces.Add(text[start..cut]);
            start = cut;
        }

        return pieces;
    }

    /// <summary>
    /// The word boundary (index of a non-space character that follows whitespace) in [from, to] closest to
    /// <paramref name="near"/>, or -1.
    /// </summary>
    private static int Boundary(string text, int from, int to, int near)
    {
        var best = -1;
        for (var i = Math.Max(from, 1); i <= to && i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i - 1]) && !char.IsWhiteSpace(text[i]) && (best < 0 || Math.Abs(i - near) <= Math.Abs(best - near)))
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>The data payload of every event of a buffered stream, as ranges of it; a last event without its blank line counts.</summary>
    private static List<Range> DataOf(ReadOnlySpan<byte> sse)
    {
        var events = new List<Range>();
        var offset = 0;
        while (offset < sse.Length)
        {
            var rest = sse[offset..];
            if (!SseRelay.NextEvent(rest, out var length, out var separator))
            {
                length = rest.Length;
                separator = 0;
            }

            var data = SseRelay.DataOf(rest[..length]);
            if (!data.IsEmpty && rest.Overlaps(data, out var at))
            {
                events.Add(new Range(offset + at, offset + at + data.Length));
            }

            offset += length + separator;
        }

        return events;
    }

    private static JsonObject? ParseEvent(ReadOnlySpan<byte> data) =>
        JsonNode.Parse(data, documentOptions: Wire.DocumentOptions) as JsonObject;

    private static byte[] Serialize(JsonNode answer)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Wire.WriterOptions))
        {
            answer.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The string value of a member, or null when it is absent, null or not a string.</summary>
    private static string? Str(JsonNode? node, string name) =>
        node is JsonObject o && o.TryGetPropertyValue(name, out var value) && value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static long? Long(JsonNode? node, string name) =>
        node is JsonObject o && o.TryGetPropertyValue(name, out var value) && value is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;

    /// <summary>True when the member is absent or JSON null.</summary>
    private static bool IsNull(JsonObject o, string name) => !o.TryGetPropertyValue(name, out var value) || value is null;

    /// <summary>A copy of an object with some members set to new values (kept in place when present, added when not).</summary>
    private static JsonObject With(JsonObject source, params (string Name, JsonNode? Value)[] changes)
    {
        var copy = (JsonObject)source.DeepClone();
        foreach (var (name, value) in changes)
        {
            copy[name] = value;
        }

        return copy;
    }

    /// <summary>A value for a string that a delta member grows: the text so far plus the new piece.</summary>
    private static void Append(ref StringBuilder? text, string? piece)
    {
        if (piece is not null)
        {
            (text ??= new StringBuilder()).Append(piece);
        }
    }

    /// <summary>Starts one SSE event: the <c>event:</c> line when the API names its events, then <c>data: </c>.</summary>
    private static void BeginEvent(Utf8JsonWriter writer, IBufferWriter<byte> output, string? name)
    {
        if (name is not null)
        {
            Wire.Put(output, "event: "u8);
            Wire.Put(output, Encoding.UTF8.GetBytes(name));
            Wire.Put(output, "\n"u8);
        }

        Wire.Put(output, "data: "u8);
        writer.Reset(output);
    }

    private static void EndEvent(Utf8JsonWriter writer, IBufferWriter<byte> output)
    {
        writer.Flush();
        Wire.Put(output, "\n\n"u8);
    }

    /// <summary>Writes one whole event whose data is <paramref name="data"/>.</summary>
    private static void WriteEvent(Utf8JsonWriter writer, IBufferWriter<byte> output, string? name, JsonNode data)
    {
        BeginEvent(writer, output, name);
        data.WriteTo(writer);
        EndEvent(writer, output);
    }

    /// <summary>Compact JSON text of a node (non-ASCII kept), e.g. tool input streamed as argument pieces.</summary>
    private static string CompactJson(JsonNode? node)
    {
        if (node is null)
        {
            return "null";
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Wire.WriterOptions))
        {
            node.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
