using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Gateway.Storage;

/// <summary>
/// The one encoder for JSON that Tollgate writes itself (admin and report bodies, error bodies, exports, the CLI's
/// <c>--json</c>). System.Text.Json's default encoder escapes every character that is unsafe inside HTML, so every
/// timestamp read <c>…\u002B00:00</c> and every error message <c>\u0027openai\u0027</c>.
/// <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/> still escapes what JSON requires (quotes, backslash,
/// control characters) and leaves <c>+ ' &lt; &gt; &amp;</c> and non-ASCII text as they are. It is "unsafe" only for
/// JSON pasted into an HTML page or a script block; our clients (SDKs, the CLI, the future console) read it through
/// HTTP as <c>application/json</c>, where no browser parses it as HTML. Bytes relayed from providers never pass here.
/// </summary>
internal static class JsonOutput
{
    public static JavaScriptEncoder Encoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>For a <see cref="Utf8JsonWriter"/> that writes a body by hand.</summary>
    public static JsonWriterOptions WriterOptions => new() { Encoder = Encoder };
}
