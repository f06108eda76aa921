using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Hosting;

namespace Tollgate.Tests;

/// <summary>Served over HTTPS (Kestrel with a certificate from configuration), the console's session cookie is Secure.</summary>
public sealed class ConsoleHttpsTests
{
    [Fact]
    public async Task Over_https_the_session_cookie_is_secure_httponly_and_samesite_strict()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tollgate-https-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var pfx = Path.Combine(dir, "gateway.pfx");
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test"));

            await using var app = await TollgateApp.BuildAsync(
                [$"--Kestrel:Certificates:Default:Path={pfx}", "--Kestrel:Certificates:Default:Password=test"],
                s =>
                {
                    s.Urls = "https://127.0.0.1:0";
                    s.DataDir = Path.Combine(dir, "data");
                    s.MasterKey = "tg-master-https-test";
                    s.Postgres = null;
                    s.Redis = null;
                });
            await app.StartAsync();
            var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
            Assert.StartsWith("https://", baseUrl, StringComparison.Ordinal);

            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == certificate.Thumbprint };
            using var http = new HttpClient(handler);
            using var signIn = await http.PostAsJsonAsync(baseUrl + "/ui/api/session", new { key = "tg-master-https-test" });
            Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
            var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("tollgate_session=", StringComparison.Ordinal)).ToLowerInvariant();
            Assert.Contains("; secure", cookie, StringComparison.Ordinal);
            Assert.Contains("; httponly", cookie, StringComparison.Ordinal);
            Assert.Contains("; samesite=strict", cookie, StringComparison.Ordinal);

            using var page = await http.GetAsync(baseUrl + "/ui/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            await app.StopAsync();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
