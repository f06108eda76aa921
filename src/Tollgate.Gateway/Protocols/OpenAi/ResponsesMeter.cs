using System.Text.Json;
using Tollgate.Gateway.Metering;

namespace Tollgate.Gateway.Protocols.OpenAi;

/// <summary>
/// Usage of the OpenAI Responses API: <c>usage.input_tokens</c> (cached included), <c>input_tokens_details.cached_tokens</c>,
/// <c>output_tokens</c> (reasoning included), <c>output_tokens_details.reasoning_tokens</c>. A stream carries the final
/// response object, usage included, in exactly one terminal event: <c>response.completed</c>, <c>response.incomplete</c>
/// or <c>response.failed</c>.
/// </summary>
internal sealed class ResponsesMeter : UsageMeter
{
    public override void ReadResponse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                ReadResponseObject(ref reader);
            }
        }
        catch (JsonException)
        {
            // Metered by estimate.
        }
    }

    public override SseAction OnEvent(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data, ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return SseAction.Forward;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (reader.ValueTextEquals("error"u8))
                    {
                        StreamError = "stream_error";
                    }
                }
                else if (reader.ValueTextEquals("response"u8))
                {
                    // response.created / in_progress carry the id and model; the terminal events add usage and status.
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadResponseObject(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    // output_text, function_call_arguments, reasoning_summary_text deltas: kept for an estimate only.
                    reader.Read();
                    AppendOutputText(ref reader);
                    reader.Skip();
                }
                else
                {
                    SkipValue(ref reader);
                }
            }
        }
        catch (JsonException)
        {
            // Metered by estimate if no terminal event comes.
        }

        return SseAction.Forward;
    }

    private void ReadResponseObject(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8) && ResponseId is null)
            {
                ResponseId = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("model"u8) && ServedModel is null)
            {
                ServedModel = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                var status = ReadString(ref reader);
                FinishReason = status is "in_progress" or "queued" ? FinishReason : status;
                if (status is "failed" or "incomplete")
                {
                    StreamError = "response_" + status;
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadOpenAiUsage(ref reader, "input_tokens"u8, "output_tokens"u8, "input_tokens_details"u8, "output_tokens_details"u8);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                SkipValue(ref reader);
            }
        }
    }
}
