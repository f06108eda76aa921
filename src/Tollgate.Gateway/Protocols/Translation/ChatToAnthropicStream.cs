using System.Buffers;
using System.Text.Json;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>
/// Chat Completions chunks → Anthropic Messages stream events. Text and tool calls open content blocks in order
/// (one open at a time, as Anthropic streams them); the finish reason closes the last one, and
/// <c>message_delta</c> waits for the usage chunk that follows it (or <c>[DONE]</c>) so it carries the real usage.
/// Each chunk is read once with a <see cref="Utf8JsonReader"/>; fragments are copied as the JSON string tokens they are.
/// </summary>
internal sealed class ChatToAnthropicStream(string clientModel) : StreamTranslator
{
    private const int NoBlock = -1;

    private byte[]? _id;
    private byte[]? _model;
    private bool _started;
    private int _blocks; // content blocks started so far
    private int _open = NoBlock;
    private bool _openIsText;
    private int[] _blockByTool = [NoBlock, NoBlock, NoBlock, NoBlock];
    private bool _sawTool;
    private string? _stopReason;
    private bool _usageSeen;
    private long _prompt;
    private long _cached;
    private long _completion;
    private bool _finished;

    public override bool Finished => _finished;

    public override void OnEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (_finished)
        {
            return;
        }

        if (data.Trim(" \r\n"u8).SequenceEqual("[DONE]"u8))
        {
            Finish(output);
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(data, Wire.ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    var id = AnthropicToChatStream.StringToken(ref reader, data);
                    _id ??= id.Length > 0 ? data.Slice(id.Start, id.Length).ToArray() : null;
                }
                else if (reader.ValueTextEquals("model"u8))
                {
                    var model = AnthropicToChatStream.StringToken(ref reader, data);
                    _model ??= model.Length > 0 ? data.Slice(model.Start, model.Length).ToArray() : null;
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    ReadChoices(ref reader, data, output);
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    ReadUsage(ref reader);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    WriteError(ref reader, output);
                    return;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return; // not a chunk this translation knows; the provider's stream carries on
        }

        if (_stopReason is not null && _usageSeen)
        {
            Finish(output);
        }
    }

    private void ReadChoices(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            string? finish = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("delta"u8))
                {
                    ReadDelta(ref reader, data, output);
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    finish = Wire.ReadString(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (finish is not null)
            {
                Start(output);
                Close(output);
                _stopReason = _sawTool && finish == "stop" ? "tool_use" : Reasons.ToStopReason(finish);
            }
        }
    }

    private void ReadDelta(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (!AnthropicToChatStream.StartObject(ref reader))
        {
            return;
        }

        Start(output);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("refusal"u8))
            {
                var text = AnthropicToChatStream.StringToken(ref reader, data);
                if (text.Length > 2)
                {
                    OnText(data.Slice(text.Start, text.Length), output);
                }
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadToolCall(ref reader, data, output);
                }
            }
            else
            {
                reader.Read(); // role, reasoning_content (dropped, as thinking has no signature here), ...
                reader.Skip();
            }
        }
    }

    private void ReadToolCall(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        var index = -1;
        Token id = default, name = default, arguments = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                index = (int)(Wire.ReadLong(ref reader) ?? -1);
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                id = AnthropicToChatStream.StringToken(ref reader, data);
            }
            else if (reader.ValueTextEquals("function"u8))
            {
                if (!AnthropicToChatStream.StartObject(ref reader))
                {
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8))
                    {
                        name = AnthropicToChatStream.StringToken(ref reader, data);
                    }
                    else if (reader.ValueTextEquals("arguments"u8))
                    {
                        arguments = AnthropicToChatStream.StringToken(ref reader, data);
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (index < 0)
        {
            index = id.Length > 0 || _open == NoBlock || _openIsText ? Count() : Count() - 1; // servers that send no index
        }

        if (index >= _blockByTool.Length)
        {
            var old = _blockByTool.Length;
            Array.Resize(ref _blockByTool, Math.Max(index + 1, old * 2));
            _blockByTool.AsSpan(old).Fill(NoBlock);
        }

        var block = _blockByTool[index];
        if (block == NoBlock)
        {
            Close(output);
            block = _blockByTool[index] = _open = _blocks++;
            _openIsText = false;
            _sawTool = true;
            Event(output, "content_block_start"u8);
            Wire.Put(output, """{"type":"content_block_start","index":"""u8);
            Wire.PutInt(output, block);
            Wire.Put(output, ""","content_block":{"type":"tool_use","id":"""u8);
            Wire.Put(output, id.Length > 0 ? data.Slice(id.Start, id.Length) : "\"toolu_tollgate\""u8);
            Wire.Put(output, ""","name":"""u8);
            Wire.Put(output, name.Length > 0 ? data.Slice(name.Start, name.Length) : "\"\""u8);
            Wire.Put(output, ""","input":{}}}"""u8);
            EndEvent(output);
        }

        if (arguments.Length > 2)
        {
            Event(output, "content_block_delta"u8);
            Wire.Put(output, """{"type":"content_block_delta","index":"""u8);
            Wire.PutInt(output, block);
            Wire.Put(output, ""","delta":{"type":"input_json_delta","partial_json":"""u8);
            Wire.Put(output, data.Slice(arguments.Start, arguments.Length));
            Wire.Put(output, "}}"u8);
            EndEvent(output);
        }
    }

    private int Count()
    {
        var count = 0;
        foreach (var block in _blockByTool)
        {
            count += block == NoBlock ? 0 : 1;
        }

        return count;
    }

    private void OnText(ReadOnlySpan<byte> rawText, IBufferWriter<byte> output)
    {
        if (_open == NoBlock || !_openIsText)
        {
            Close(output);
            _open = _blocks++;
            _openIsText = true;
            Event(output, "content_block_start"u8);
            Wire.Put(output, """{"type":"content_block_start","index":"""u8);
            Wire.PutInt(output, _open);
            Wire.Put(output, ""","content_block":{"type":"text","text":""}}"""u8);
            EndEvent(output);
        }

        Event(output, "content_block_delta"u8);
        Wire.Put(output, """{"type":"content_block_delta","index":"""u8);
        Wire.PutInt(output, _open);
        Wire.Put(output, ""","delta":{"type":"text_delta","text":"""u8);
        Wire.Put(output, rawText);
        Wire.Put(output, "}}"u8);
        EndEvent(output);
    }

    private void Close(IBufferWriter<byte> output)
    {
        if (_open == NoBlock)
        {
            return;
        }

        Event(output, "content_block_stop"u8);
        Wire.Put(output, """{"type":"content_block_stop","index":"""u8);
        Wire.PutInt(output, _open);
        Wire.Put(output, "}"u8);
        EndEvent(output);
        _open = NoBlock;
    }

    private void Start(IBufferWriter<byte> output)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        Event(output, "message_start"u8);
        Wire.Put(output, """{"type":"message_start","message":{"id":"""u8);
        Wire.Put(output, _id ?? "\"msg_tollgate\""u8);
        Wire.Put(output, ""","type":"message","role":"assistant","model":"""u8);
        Wire.Put(output, _model ?? JsonSerializer.SerializeToUtf8Bytes(clientModel));
        Wire.Put(output, ""","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}"""u8);
        EndEvent(output);
    }

    /// <summary>Closes the message: the last block, <c>message_delta</c> with the stop reason and usage, <c>message_stop</c>.</summary>
    private void Finish(IBufferWriter<byte> output)
    {
        Start(output);
        Close(output);
        var stopReason = _stopReason ?? (_sawTool ? "tool_use" : "end_turn");
        Event(output, "message_delta"u8);
        Wire.Put(output, """{"type":"message_delta","delta":{"stop_reason":"""u8);
        Wire.Put(output, "\""u8);
        Wire.Put(output, System.Text.Encoding.UTF8.GetBytes(stopReason));
        Wire.Put(output, "\""u8);
        Wire.Put(output, ""","stop_sequence":null},"usage":{"input_tokens":"""u8);
        Wire.PutInt(output, Math.Max(_prompt - _cached, 0));
        Wire.Put(output, ""","cache_creation_input_tokens":0,"cache_read_input_tokens":"""u8);
        Wire.PutInt(output, _cached);
        Wire.Put(output, ""","output_tokens":"""u8);
        Wire.PutInt(output, _completion);
        Wire.Put(output, "}}"u8);
        EndEvent(output);
        Event(output, "message_stop"u8);
        Wire.Put(output, """{"type":"message_stop"}"""u8);
        EndEvent(output);
        _finished = true;
    }

    private void ReadUsage(ref Utf8JsonReader reader)
    {
        if (!AnthropicToChatStream.StartObject(ref reader))
        {
            return; // "usage": null on every chunk but the last
        }

        _usageSeen = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                _prompt = Wire.ReadLong(ref reader) ?? _prompt;
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                _completion = Wire.ReadLong(ref reader) ?? _completion;
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8))
            {
                if (!AnthropicToChatStream.StartObject(ref reader))
                {
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("cached_tokens"u8))
                    {
                        _cached = Wire.ReadLong(ref reader) ?? _cached;
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private void WriteError(ref Utf8JsonReader reader, IBufferWriter<byte> output)
    {
        string? message = null, code = null, type = null;
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("message"u8))
                {
                    message = Wire.ReadString(ref reader);
                }
                else if (reader.ValueTextEquals("code"u8))
                {
                    code = Wire.ReadString(ref reader);
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    type = Wire.ReadString(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        else if (reader.TokenType == JsonTokenType.String)
        {
            message = reader.GetString();
        }

        Event(output, "error"u8);
        using (var w = new Utf8JsonWriter(output, Wire.WriterOptions))
        {
            MessagesToChatTranslation.WriteAnthropicError(w, Reasons.ToAnthropicType(500, code, type), message ?? "The provider's stream failed.");
        }

        EndEvent(output);
        _finished = true;
    }

    private static void Event(IBufferWriter<byte> output, ReadOnlySpan<byte> type)
    {
        Wire.Put(output, "event: "u8);
        Wire.Put(output, type);
        Wire.Put(output, "\ndata: "u8);
    }

    private static void EndEvent(IBufferWriter<byte> output) => Wire.Put(output, "\n\n"u8);
}
