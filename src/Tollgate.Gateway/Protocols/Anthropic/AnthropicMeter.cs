using System.Text.Json;
using Tollgate.Gateway.Metering;

namespace Tollgate.Gateway.Protocols.Anthropic;

/// <summary>
/// Usage of Anthropic Messages. Anthropic's <c>input_tokens</c> excludes the cache; total input is
/// <c>input_tokens + cache_read_input_tokens + cache_creation_input_tokens</c>. In a stream, <c>message_start</c>
/// carries the input side and <c>message_delta</c> the cumulative output.
/// </summary>
internal sealed class AnthropicMeter : UsageMeter
{
    private long _uncachedInput;

    public override void ReadResponse(ReadOnlySpan<byte> json)
    {
        Read(json);
        Complete = Input is not null && Output is not null;
    }

    public override SseAction OnEvent(ReadOnlySpan<byte> data)
    {
        Read(data);
        return SseAction.Forward;
    }

    private void Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            ReadObject(ref reader, nested: false);
        }
        catch (JsonException)
        {
            // Metered by estimate if usage never comes.
        }
    }

    private void ReadObject(ref Utf8JsonReader reader, bool nested)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8) && !nested)
            {
                reader.Read();
                if (reader.ValueTextEquals("error"u8))
                {
                    StreamError = "stream_error";
                }
            }
            else if (reader.ValueTextEquals("message"u8) && !nested)
            {
                // message_start: the message object holds id, model and the input-side usage.
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadObject(ref reader, nested: true);
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                ReadUsage(ref reader, final: !nested);
            }
            else if (reader.ValueTextEquals("model"u8) && ServedModel is null)
            {
                ServedModel = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("id"u8) && ResponseId is null)
            {
                ResponseId = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("stop_reason"u8))
            {
                FinishReason = ReadString(ref reader) ?? FinishReason; // a whole message; null in message_start
            }
            else if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("content"u8))
            {
                ReadText(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }
    }

    private void ReadUsage(ref Utf8JsonReader reader, bool final)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("input_tokens"u8))
            {
                _uncachedInput = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                Cached = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                CacheWrite = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("output_tokens"u8))
            {
                Output = ReadLong(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        Input = _uncachedInput + Cached + CacheWrite;
        // message_delta's top-level usage is the final, cumulative count.
        Complete |= final;
    }

    private void ReadText(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.PropertyName
                && (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("partial_json"u8) || reader.ValueTextEquals("thinking"u8)))
            {
                reader.Read();
                AppendOutputText(ref reader);
            }
            else if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("stop_reason"u8))
            {
                FinishReason = ReadString(ref reader) ?? FinishReason; // message_delta
            }
        }
    }
}
