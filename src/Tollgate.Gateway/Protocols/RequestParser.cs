using System.Text.Json;

namespace Tollgate.Gateway.Protocols;

/// <summary>Reads the top level of a JSON request with <see cref="Utf8JsonReader"/>, validating the whole document.</summary>
internal static class RequestParser
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 };

    /// <summary>Null when the body is well-formed; otherwise the reason it is not, in words for the client.</summary>
    public static string? Parse(ReadOnlySpan<byte> body, out ParsedRequest request)
    {
        request = default;
        request.StreamOptionsStart = -1;
        request.IncludeUsageStart = -1;
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return "The request body is not valid UTF-8.";
        }

        var reader = new Utf8JsonReader(body, Options);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return "The request body must be a JSON object.";
            }

            request.RootBodyStart = (int)reader.TokenStartIndex + 1;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return "'model' must be a string.";
                    }

                    request.Model = reader.GetString()!;
                    request.ModelEscaped = reader.ValueIsEscaped;
                    request.ModelTokenStart = (int)reader.TokenStartIndex;
                    request.ModelTokenLength = (int)reader.BytesConsumed - request.ModelTokenStart;
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
                    {
                        return "'stream' must be a boolean.";
                    }

                    request.Stream = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("max_tokens"u8) || reader.ValueTextEquals("max_completion_tokens"u8) || reader.ValueTextEquals("max_output_tokens"u8))
                {
                    var name = reader.GetString();
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }

                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var max) || max < 0)
                    {
                        return $"'{name}' must be a non-negative integer.";
                    }

                    request.MaxTokens = max;
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    if (ReadStreamOptions(ref reader, ref request) is { } error)
                    {
                        return error;
                    }
                }
                else if (reader.ValueTextEquals("messages"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return "'messages' must be an array.";
                    }

                    request.HasMessages = true;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("background"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
                    {
                        return "'background' must be a boolean.";
                    }

                    request.Background = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("previous_response_id"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                    {
                        return "'previous_response_id' must be a string.";
                    }

                    request.PreviousResponseId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("input"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.StartArray))
                    {
                        return "'input' must be a string or an array.";
                    }

                    request.HasInput = true;
                    reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return "The request body has content after the JSON object.";
            }
        }
        catch (JsonException e)
        {
            return "The request body is not valid JSON: " + e.Message;
        }

        return string.IsNullOrEmpty(request.Model) ? "'model' is required." : null;
    }

    private static string? ReadStreamOptions(ref Utf8JsonReader reader, ref ParsedRequest request)
    {
        reader.Read();
        request.StreamOptionsStart = (int)reader.TokenStartIndex;
        if (reader.TokenType == JsonTokenType.Null)
        {
            request.StreamOptionsLength = 4;
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return "'stream_options' must be an object.";
        }

        request.StreamOptionsIsObject = true;
        request.StreamOptionsEmpty = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            request.StreamOptionsEmpty = false;
            if (reader.ValueTextEquals("include_usage"u8))
            {
                reader.Read();
                if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
                {
                    return "'stream_options.include_usage' must be a boolean.";
                }

                request.IncludeUsage = reader.TokenType == JsonTokenType.True;
                request.IncludeUsageStart = (int)reader.TokenStartIndex;
                request.IncludeUsageLength = (int)reader.BytesConsumed - request.IncludeUsageStart;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        request.StreamOptionsLength = (int)reader.BytesConsumed - request.StreamOptionsStart;
        return null;
    }
}
