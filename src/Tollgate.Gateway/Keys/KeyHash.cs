using System.Security.Cryptography;
using System.Text;

namespace Tollgate.Gateway.Keys;

/// <summary>
/// Keys are 256-bit random secrets, so a plain SHA-256 is enough to make a stolen database useless
/// (no dictionary to try) while keeping the per-request check in the microseconds.
/// </summary>
internal static class KeyHash
{
    public const string Prefix = "tg-";

    public static string NewSecret() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string NewId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static string Compute(string secret)
    {
        Span<char> hex = stackalloc char[64];
        Compute(secret, hex);
        return new string(hex);
    }

    /// <summary>Writes the lowercase hex SHA-256 of the UTF-8 secret into <paramref name="hex"/> (64 chars), allocation-free.</summary>
    public static bool Compute(ReadOnlySpan<char> secret, Span<char> hex)
    {
        if (secret.Length > 256)
        {
            return false;
        }

        Span<byte> utf8 = stackalloc byte[1024];
        var length = Encoding.UTF8.GetBytes(secret, utf8);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(utf8[..length], hash);
        return Convert.TryToHexStringLower(hash, hex, out _);
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
