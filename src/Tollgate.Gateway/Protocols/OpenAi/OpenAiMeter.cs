using System.Text.Json;
using Tollgate.Gateway.Metering;

namespace Tollgate.Gateway.Protocols.OpenAi;

/// <summary>
/// Usage of OpenAI Chat Completions and Embeddings: <c>usage.prompt_tokens</c> (cached included),
/// <c>prompt_tokens_details.cached_tokens</c>, <c>completion_tokens</c> (reasoning included),
/// <c>completion_tokens_details.reasoning_tokens</c>. In a stream, the usage chunk comes last with empty <c>choices</c>.
/// </summary>
internal sealed class OpenAiMeter(bool usageWasInjected) : UsageMeter
{
    public override void ReadResponse(ReadOnlySpan<byte> json) => Read(json, out _, out _);

    public override SseAction OnEvent(ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            return SseAction.Forward;
        }

        Read(data, out var usageIsNull, out var choices);
        if (!usageWasInjected)
        {
            return SseAction.Forward;
        }

        // The client did not ask for usage: hide the usage chunk and the "usage":null the provider added to the others.
        return Complete && choices == 0 ? SseAction.Drop
            : usageIsNull ? SseAction.ForwardWithoutNullUsage
            : SseAction.Forward;
    }

    private void Read(ReadOnlySpan<byte> json, out bool usageIsNull, out int choices)
    {
        usageIsNull = false;
        choices = 0;
        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadOpenAiUsage(ref reader, "prompt_tokens"u8, "completion_tokens"u8, "prompt_tokens_details"u8, "completion_tokens_details"u8);
                    }
                    else
                    {
                        usageIsNull = reader.TokenType == JsonTokenType.Null;
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    choices = ReadChoices(ref reader);
                }
                else if (reader.ValueTextEquals("model"u8) && ServedModel is null)
                {
                    ServedModel = ReadString(ref reader);
                }
                else if (reader.ValueTextEquals("id"u8) && ResponseId is null)
                {
                    ResponseId = ReadString(ref reader);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    StreamError = "stream_error";
                    SkipValue(ref reader);
                }
                else
                {
                    SkipValue(ref reader);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a provider's odd event): metered by estimate if usage never comes.
        }
    }

    /// <summary>Walks <c>choices[].delta|message</c>, keeping the generated text for an estimate; returns the choice count.</summary>
    private int ReadChoices(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return 0;
        }

        var count = 0;
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.StartObject && reader.CurrentDepth == depth + 1)
            {
                count++;
            }
            else if (reader.TokenType == JsonTokenType.PropertyName
                && (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("arguments"u8) || reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("refusal"u8)))
            {
                reader.Read();
                AppendOutputText(ref reader);
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }
            }
            else if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 2 && reader.ValueTextEquals("finish_reason"u8))
            {
                FinishReason = ReadString(ref reader) ?? FinishReason; // null until the choice's last chunk
            }
        }

        return count;
    }
}
