using System.Security.Cryptography;
using System.Text;

namespace Tollgate.Gateway.Storage;

/// <summary>
/// AES-256-GCM for provider API keys at rest. Stored form: base64(nonce[12] | tag[16] | ciphertext).
/// The key comes from <c>TOLLGATE_SECRET_KEY</c> or from a 0600 file generated in the data directory.
/// </summary>
internal sealed class SecretProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SecretProtector(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("TOLLGATE_SECRET_KEY must be 32 bytes, base64-encoded");
        }

        _key = key;
    }

    public static SecretProtector Load(string? configured, string dataDir)
    {
        if (configured is not null)
        {
            try
            {
                return new SecretProtector(Convert.FromBase64String(configured));
            }
            catch (FormatException)
            {
                throw new ArgumentException("TOLLGATE_SECRET_KEY must be 32 bytes, base64-encoded");
            }
        }

        var path = Path.Combine(dataDir, "secret.key");
        if (!File.Exists(path))
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var file = new FileStream(path, options);
            file.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
        }

        return new SecretProtector(Convert.FromBase64String(File.ReadAllText(path).Trim()));
    }

    public string Encrypt(string plaintext) => Convert.ToBase64String(Seal(Encoding.UTF8.GetBytes(plaintext)));

    public string Decrypt(string stored) => Encoding.UTF8.GetString(Unseal(Convert.FromBase64String(stored)));

    /// <summary>Encrypts bytes: nonce[12] | tag[16] | ciphertext.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plain)
    {
        var output = new byte[NonceSize + TagSize + plain.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize));
        return output;
    }

    /// <summary>Decrypts what <see cref="Seal"/> made; throws <see cref="CryptographicException"/> on anything else or a different key.</summary>
    public byte[] Unseal(ReadOnlySpan<byte> data)
    {
        if (data.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("The sealed data is too short.");
        }

        var plain = new byte[data.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(data[..NonceSize], data[(NonceSize + TagSize)..], data.Slice(NonceSize, TagSize), plain);
        return plain;
    }
}
