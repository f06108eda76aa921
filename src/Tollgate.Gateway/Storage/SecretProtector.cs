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

    public string Encrypt(string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + TagSize + plain.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize));
        return Convert.ToBase64String(output);
    }

    public string Decrypt(string stored)
    {
        var data = Convert.FromBase64String(stored);
        var plain = new byte[data.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize + TagSize), data.AsSpan(NonceSize, TagSize), plain);
        return Encoding.UTF8.GetString(plain);
    }
}
