using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Alerts;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Alerts, webhooks, the circuit breaker and the audit log, on a gateway with fast retries and a short cool-down.</summary>
public sealed class AlertTests : IAsyncLifetime
{
    private readonly GatewayHost _host = new(s =>
    {
        s.WebhookRetryDelays = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)];
        s.CircuitCooldownSeconds = 2;
    });

    private readonly ConcurrentQueue<(string Body, string Signature)> _received = new();
    private WebApplication? _receiver;
    private string _receiverUrl = "";
    private int _failFirst;

    public async Task InitializeAsync()
    {
        await _host.InitializeAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            if (Interlocked.Decrement(ref _failFirst) >= 0)
            {
                return Results.StatusCode(500);
            }

            _received.Enqueue((body, context.Request.Headers["X-Tollgate-Signature"].ToString()));
            return Results.Ok();
        });
        await _receiver.StartAsync();
        _receiverUrl = _receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";
    }

    public async Task DisposeAsync()
    {
        await _receiver!.StopAsync();
        await _receiver.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Budget_thresholds_fire_once_each_and_reach_the_webhook_signed_after_a_retry()
    {
        _failFirst = 1;
        var hook = await _host.AdminJson(HttpMethod.Post, "/admin/webhooks", new { url = _receiverUrl, events = new[] { "budget.threshold", "budget.exceeded" } });
        var secret = hook.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        // Each default call costs 0.000028: thresholds of a 0.0001 soft budget fall at the 2nd (50 %), 3rd (80 %) and 4th (100 %) call.
        var (_, key) = await _host.CreateKey(new { name = "alerting", budget = new { period = "month", soft = 0.0001m, hard = 0.000112m } });

        var statuses = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            // max_tokens keeps the reservation near the call's real cost (without it, 4096 output tokens are reserved).
            using var response = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(extra: ",\"max_tokens\":8"));
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([200, 200, 200, 200, 429, 429], statuses);
        var payloads = await WaitFor(4);
        Assert.Equal(["budget.exceeded", "budget.threshold", "budget.threshold", "budget.threshold"], payloads.Select(p => p.GetProperty("type").GetString()).Order());
        Assert.Equal([0.5m, 0.8m, 1.0m], payloads.Where(p => p.GetProperty("type").GetString() == "budget.threshold").Select(p => p.GetProperty("data").GetProperty("threshold").GetDecimal()).Order());
        foreach (var (body, signature) in _received)
        {
            var t = long.Parse(signature.Split(',')[0][2..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(AlertService.Sign(secret, t, body), signature);
        }

        // The receiver has every payload; the gateway marks each delivery once the answer is back, a moment later.
        JsonElement deliveries;
        for (var deadline = DateTime.UtcNow.AddSeconds(15); ; await Task.Delay(50))
        {
            deliveries = await _host.AdminJson(HttpMethod.Get, $"/admin/webhooks/{hook.GetProperty("id").GetString()}/deliveries");
            if (deliveries.EnumerateArray().All(d => d.GetProperty("status").GetString() == "delivered") || DateTime.UtcNow > deadline)
            {
                break;
            }
        }

        Assert.Equal(4, deliveries.GetArrayLength());
        Assert.All(deliveries.EnumerateArray(), d => Assert.Equal("delivered", d.GetProperty("status").GetString()));
        Assert.Equal(5, deliveries.EnumerateArray().Sum(d => d.GetProperty("attempts").GetInt32())); // one retry after the first 500

        var history = await _host.AdminJson(HttpMethod.Get, "/admin/alerts?type=budget.threshold");
        Assert.Equal(3, history.GetArrayLength());
        var data = history[0].GetProperty("data");
        Assert.Equal("key", data.GetProperty("scope").GetString());
        Assert.Equal(0.0001m, data.GetProperty("limit").GetDecimal());
        Assert.True(data.TryGetProperty("period_start", out _));
    }

    [Fact]
    public async Task A_webhook_that_keeps_failing_is_marked_failed_after_every_retry()
    {
        _failFirst = 1000;
        var hook = await _host.AdminJson(HttpMethod.Post, "/admin/webhooks", new { url = _receiverUrl, events = new[] { "quota.exhausted" } });
        var (keyId, key) = await _host.CreateKey();
        await _host.AdminJson(HttpMethod.Post, "/admin/quota-rules", new { name = "fails", limit_tokens = 1, cycle = "day", consumers = new[] { "key:" + keyId } });
        using (await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat()))
        {
        }

        var deadline = DateTime.UtcNow.AddSeconds(15);
        JsonElement delivery;
        do
        {
            await Task.Delay(100);
            var list = await _host.AdminJson(HttpMethod.Get, $"/admin/webhooks/{hook.GetProperty("id").GetString()}/deliveries");
            delivery = list.GetArrayLength() > 0 ? list[0] : default;
        }
        while ((delivery.ValueKind == JsonValueKind.Undefined || delivery.GetProperty("status").GetString() != "failed") && DateTime.UtcNow < deadline);

        Assert.Equal("failed", delivery.GetProperty("status").GetString());
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32()); // the first try and two retries
        Assert.Equal(500, delivery.GetProperty("last_status").GetInt32());
    }

    [Fact]
    public async Task An_exhausted_quota_raises_one_alert_per_consumer_and_cycle()
    {
        var (keyId, key) = await _host.CreateKey();
        await _host.AdminJson(HttpMethod.Post, "/admin/quota-rules", new { name = "tiny", limit_tokens = 10, cycle = "day", consumers = new[] { "key:" + keyId } });

        for (var i = 0; i < 3; i++)
        {
            using var response = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
            Assert.Equal(429, (int)response.StatusCode);
        }

        var alerts = await WaitForHistory("quota.exhausted", 1);
        Assert.Equal("key:" + keyId, Assert.Single(alerts.EnumerateArray()).GetProperty("data").GetProperty("subject").GetString());
    }

    [Fact]
    public async Task The_circuit_breaker_opens_on_cost_velocity_then_half_opens_after_the_cooldown()
    {
        // 0.00005 per minute: the second call (0.000056 in the window) trips it.
        var (_, key) = await _host.CreateKey(new { name = "velocity", limits = new { max_cost_per_minute = 0.00005m } });

        using var first = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
        using var second = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
        using var refused = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());

        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal(200, (int)second.StatusCode);
        await ApiErrors.AssertError(refused, "/v1/chat/completions", 429, "circuit_open");
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 2);
        await WaitForHistory("circuit.open", 1);

        await Task.Delay(2100);
        // Half-open: one probe passes; the 60-second window still holds the earlier spend, so the probe reopens the circuit.
        using var probe = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
        using var again = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
        Assert.Equal(200, (int)probe.StatusCode);
        await ApiErrors.AssertError(again, "/v1/chat/completions", 429, "circuit_open");
    }

    [Fact]
    public async Task Every_admin_change_is_audited_with_actor_before_and_after_and_no_secret()
    {
        var created = await _host.AdminJson(HttpMethod.Post, "/admin/keys", new { name = "audited", owner = new { team = "a" } });
        var id = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("key").GetString()!;
        await _host.AdminJson(HttpMethod.Patch, "/admin/keys/" + id, new { owner = new { team = "b" } });
        await _host.AdminJson(HttpMethod.Post, "/admin/providers", new { name = "audited-provider", kind = "openai", api_key = "sk-audit-secret" });

        var audit = await _host.AdminJson(HttpMethod.Get, "/admin/audit");
        var text = audit.GetRawText();

        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-audit-secret", text, StringComparison.Ordinal);
        var patch = audit.EnumerateArray().First(e => e.GetProperty("action").GetString() == "PATCH /admin/keys/" + id);
        Assert.Equal("master", patch.GetProperty("actor").GetString());
        Assert.Equal("keys/" + id, patch.GetProperty("target").GetString());
        Assert.Equal("a", patch.GetProperty("before").GetProperty("owner").GetProperty("team").GetString());
        Assert.Equal("b", patch.GetProperty("after").GetProperty("owner").GetProperty("team").GetString());
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "POST /admin/keys" && e.GetProperty("target").GetString() == "keys/" + id);
        Assert.True(DateTimeOffset.TryParse(patch.GetProperty("at").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
    }

    private async Task<List<JsonElement>> WaitFor(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (_received.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        return [.. _received.Select(r => JsonDocument.Parse(r.Body).RootElement)];
    }

    private async Task<JsonElement> WaitForHistory(string type, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var history = await _host.AdminJson(HttpMethod.Get, "/admin/alerts?type=" + type);
            if (history.GetArrayLength() >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, history.GetArrayLength());
                return history;
            }

            await Task.Delay(50);
        }
    }
}
