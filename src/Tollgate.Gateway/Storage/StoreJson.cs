using System.Text.Json;

namespace Tollgate.Gateway.Storage;

/// <summary>One JSON convention for the wire and for JSON columns: snake_case, nulls omitted, readable escaping (<see cref="JsonOutput"/>).</summary>
internal static class StoreJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions());

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        options.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip;
        options.Encoder = JsonOutput.Encoder;
        return options;
    }
}
