using System.Buffers;
using System.Text.Json;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>
/// Anthropic Messages stream events → Chat Completions chunks. Each event is read once with a
/// <see cref="Utf8JsonReader"/> and the chunk is assembled from raw bytes: the text and argument fragments are copied
/// as the JSON string tokens they already are, so a token costs no allocation.
/// </summary>
internal sealed class AnthropicToChatStream(bool includeUsage, string clientModel, TimeProvider time) : StreamTranslator
{
    private static ReadOnlySpan<byte> ChoicesStart => ""","choices":[{"index":0,"delta":"""u8;

    private byte[]? _head; // {"id":…,"object":"chat.completion.chunk","created":…,"model":…
    private int[] _toolByBlock = new int[8];
    private int _tools;
    private long _input;
    private long _cacheRead;
    private long _cacheCreation;
    private long _output;
    private bool _finished;

    public override bool Finished => _finished;

    public override void OnEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (_finished)
        {
            return;
        }

        Event e = default;
        e.Index = -1;
        try
        {
            var reader = new Utf8JsonReader(data, Wire.ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            ReadObject(ref reader, ref e, data);
        }
        catch (JsonException)
        {
            return; // not an event this translation knows; the provider's stream carries on
        }

        switch (e.Type)
        {
            case EventType.MessageStart:
                ReadUsage(in e);
                Head(data, in e);
                WriteChunk(output, """{"role":"assistant","content":"","refusal":null}"""u8, [], default);
                break;
            case EventType.ContentBlockStart when e.Inner == Inner.ToolUse:
                OnToolStart(data, in e, output);
                break;
            case EventType.ContentBlockStart or EventType.ContentBlockDelta when e.Inner is Inner.Text or Inner.TextDelta && e.Text.Length > 2:
                WriteChunk(output, """{"content":"""u8, data.Slice(e.Text.Start, e.Text.Length), default);
                break;
            case EventType.ContentBlockDelta when e.Inner == Inner.InputJsonDelta && e.Text.Length > 2:
                OnToolArguments(data, in e, output);
                break;
            case EventType.MessageDelta:
                ReadUsage(in e);
                var finish = _tools > 0 && e.StopReason is null or "end_turn" ? "tool_calls" : Reasons.ToFinishReason(e.StopReason);
                WriteChunk(output, "{}"u8, [], System.Text.Encoding.UTF8.GetBytes(finish));
                break;
            case EventType.MessageStop:
                if (includeUsage)
                {
                    WriteUsageChunk(output);
                }

                Wire.Put(output, "data: [DONE]\n\n"u8);
                _finished = true;
                break;
            case EventType.Error:
                Wire.Put(output, "data: "u8);
                using (var w = new Utf8JsonWriter(output, Wire.WriterOptions))
                {
                    ChatToMessagesTranslation.WriteOpenAiError(w, 500, e.ErrorType, e.ErrorMessage ?? "The provider's stream failed.");
                }

                Wire.Put(output, "\n\n"u8);
                _finished = true;
                break;
        }
    }

    private void OnToolStart(ReadOnlySpan<byte> data, in Event e, IBufferWriter<byte> output)
    {
        var tool = _tools++;
        if (e.Index >= 0)
        {
            if (e.Index >= _toolByBlock.Length)
            {
                Array.Resize(ref _toolByBlock, Math.Max(e.Index + 1, _toolByBlock.Length * 2));
            }

            _toolByBlock[e.Index] = tool;
        }

        StartChunk(output);
        Wire.Put(output, """{"tool_calls":[{"index":"""u8);
        Wire.PutInt(output, tool);
        Wire.Put(output, ""","id":"""u8);
        Wire.Put(output, e.Id.Length > 0 ? data.Slice(e.Id.Start, e.Id.Length) : "null"u8);
        Wire.Put(output, ""","type":"function","function":{"name":"""u8);
        Wire.Put(output, e.Name.Length > 0 ? data.Slice(e.Name.Start, e.Name.Length) : "null"u8);
        Wire.Put(output, ""","arguments":""}}]}"""u8);
        EndChunk(output, default);
    }

    private void OnToolArguments(ReadOnlySpan<byte> data, in Event e, IBufferWriter<byte> output)
    {
        var tool = e.Index >= 0 && e.Index < _toolByBlock.Length ? _toolByBlock[e.Index] : Math.Max(_tools - 1, 0);
        StartChunk(output);
        Wire.Put(output, """{"tool_calls":[{"index":"""u8);
        Wire.PutInt(output, tool);
        Wire.Put(output, ""","function":{"arguments":"""u8);
        Wire.Put(output, data.Slice(e.Text.Start, e.Text.Length));
        Wire.Put(output, "}}]}"u8);
        EndChunk(output, default);
    }

    private void WriteChunk(IBufferWriter<byte> output, ReadOnlySpan<byte> deltaStart, ReadOnlySpan<byte> value, ReadOnlySpan<byte> finishReason)
    {
        StartChunk(output);
        Wire.Put(output, deltaStart);
        if (!value.IsEmpty)
        {
            Wire.Put(output, value);
            Wire.Put(output, "}"u8);
        }

        EndChunk(output, finishReason);
    }

    private void StartChunk(IBufferWriter<byte> output)
    {
        Wire.Put(output, "data: "u8);
        Wire.Put(output, _head ??= BuildHead([], [], clientModel));
        Wire.Put(output, ChoicesStart);
    }

    private void EndChunk(IBufferWriter<byte> output, ReadOnlySpan<byte> finishReason)
    {
        Wire.Put(output, ""","logprobs":null,"finish_reason":"""u8);
        if (finishReason.IsEmpty)
        {
            Wire.Put(output, "null"u8);
        }
        else
        {
            Wire.Put(output, "\""u8);
            Wire.Put(output, finishReason);
            Wire.Put(output, "\""u8);
        }

        Wire.Put(output, includeUsage ? "}],\"usage\":null}\n\n"u8 : "}]}\n\n"u8);
    }

    private void WriteUsageChunk(IBufferWriter<byte> output)
    {
        var prompt = _input + _cacheRead + _cacheCreation;
        Wire.Put(output, "data: "u8);
        Wire.Put(output, _head ??= BuildHead([], [], clientModel));
        Wire.Put(output, ""","choices":[],"usage":{"prompt_tokens":"""u8);
        Wire.PutInt(output, prompt);
        Wire.Put(output, ""","completion_tokens":"""u8);
        Wire.PutInt(output, _output);
        Wire.Put(output, ""","total_tokens":"""u8);
        Wire.PutInt(output, prompt + _output);
        Wire.Put(output, ""","prompt_tokens_details":{"cached_tokens":"""u8);
        Wire.PutInt(output, _cacheRead);
        Wire.Put(output, """},"completion_tokens_details":{"reasoning_tokens":0}}}"""u8);
        Wire.Put(output, "\n\n"u8);
    }

    private void Head(ReadOnlySpan<byte> data, in Event e) =>
        _head = BuildHead(e.Id.Length > 0 ? data.Slice(e.Id.Start, e.Id.Length) : [], e.Model.Length > 0 ? data.Slice(e.Model.Start, e.Model.Length) : [], clientModel);

    /// <summary>The chunk's first fields, the same in every chunk of the stream (raw JSON tokens for id and model).</summary>
    private byte[] BuildHead(ReadOnlySpan<byte> rawId, ReadOnlySpan<byte> rawModel, string fallbackModel)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        Wire.Put(buffer, """{"id":"""u8);
        Wire.Put(buffer, rawId.IsEmpty ? "\"chatcmpl-tollgate\""u8 : rawId);
        Wire.Put(buffer, ""","object":"chat.completion.chunk","created":"""u8);
        Wire.PutInt(buffer, Wire.Unix(time));
        Wire.Put(buffer, ""","model":"""u8);
        if (rawModel.IsEmpty)
        {
            Wire.Put(buffer, JsonSerializer.SerializeToUtf8Bytes(fallbackModel));
        }
        else
        {
            Wire.Put(buffer, rawModel);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void ReadUsage(in Event e)
    {
        _input = e.InputTokens ?? _input;
        _cacheRead = e.CacheRead ?? _cacheRead;
        _cacheCreation = e.CacheCreation ?? _cacheCreation;
        _output = e.OutputTokens ?? _output;
    }

    private static void ReadObject(ref Utf8JsonReader reader, ref Event e, ReadOnlySpan<byte> data)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                e.Type = reader.ValueTextEquals("content_block_delta"u8) ? EventType.ContentBlockDelta
                    : reader.ValueTextEquals("content_block_start"u8) ? EventType.ContentBlockStart
                    : reader.ValueTextEquals("content_block_stop"u8) ? EventType.ContentBlockStop
                    : reader.ValueTextEquals("message_start"u8) ? EventType.MessageStart
                    : reader.ValueTextEquals("message_delta"u8) ? EventType.MessageDelta
                    : reader.ValueTextEquals("message_stop"u8) ? EventType.MessageStop
                    : reader.ValueTextEquals("error"u8) ? EventType.Error
                    : EventType.Other;
            }
            else if (reader.ValueTextEquals("index"u8))
            {
                e.Index = (int)(Wire.ReadLong(ref reader) ?? -1);
            }
            else if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("content_block"u8))
            {
                ReadInner(ref reader, ref e, data);
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                ReadMessage(ref reader, ref e, data);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                ReadUsage(ref reader, ref e);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                ReadError(ref reader, ref e);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadInner(ref Utf8JsonReader reader, ref Event e, ReadOnlySpan<byte> data)
    {
        if (!StartObject(ref reader))
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                e.Inner = reader.ValueTextEquals("text_delta"u8) ? Inner.TextDelta
                    : reader.ValueTextEquals("input_json_delta"u8) ? Inner.InputJsonDelta
                    : reader.ValueTextEquals("text"u8) ? Inner.Text
                    : reader.ValueTextEquals("tool_use"u8) ? Inner.ToolUse
                    : Inner.Other;
            }
            else if (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("partial_json"u8))
            {
                e.Text = StringToken(ref reader, data);
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                e.Id = StringToken(ref reader, data);
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                e.Name = StringToken(ref reader, data);
            }
            else if (reader.ValueTextEquals("stop_reason"u8))
            {
                e.StopReason = Wire.ReadString(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadMessage(ref Utf8JsonReader reader, ref Event e, ReadOnlySpan<byte> data)
    {
        if (!StartObject(ref reader))
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                e.Id = StringToken(ref reader, data);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                e.Model = StringToken(ref reader, data);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                ReadUsage(ref reader, ref e);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref Event e)
    {
        if (!StartObject(ref reader))
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("input_tokens"u8))
            {
                e.InputTokens = Wire.ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("output_tokens"u8))
            {
                e.OutputTokens = Wire.ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                e.CacheRead = Wire.ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                e.CacheCreation = Wire.ReadLong(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadError(ref Utf8JsonReader reader, ref Event e)
    {
        if (!StartObject(ref reader))
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                e.ErrorType = Wire.ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                e.ErrorMessage = Wire.ReadString(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>Reads the value after a property name; true when it is an object (else it is skipped).</summary>
    internal static bool StartObject(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            return true;
        }

        reader.Skip();
        return false;
    }

    /// <summary>The raw string token (quotes included) after a property name; empty when the value is not a string.</summary>
    internal static Token StringToken(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return default;
        }

        return new Token((int)reader.TokenStartIndex, (int)(reader.BytesConsumed - reader.TokenStartIndex));
    }

    private enum EventType
    {
        Other,
        MessageStart,
        ContentBlockStart,
        ContentBlockDelta,
        ContentBlockStop,
        MessageDelta,
        MessageStop,
        Error,
    }

    private enum Inner
    {
        Other,
        Text,
        TextDelta,
        ToolUse,
        InputJsonDelta,
    }

    /// <summary>What one event says, with its strings as ranges of the event's bytes.</summary>
    private struct Event
    {
        public EventType Type;
        public Inner Inner;
        public int Index;
        public Token Text;
        public Token Id;
        public Token Name;
        public Token Model;
        public string? StopReason;
        public long? InputTokens;
        public long? OutputTokens;
        public long? CacheRead;
        public long? CacheCreation;
        public string? ErrorType;
        public string? ErrorMessage;
    }
}

/// <summary>A JSON token as a range of an event's bytes.</summary>
internal readonly record struct Token(int Start, int Length);
