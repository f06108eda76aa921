using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

[Collection(GatewayCollection.Name)]
public sealed class PlanTests(GatewayHost host)
{
    private static readonly string Capped = GatewayHost.Chat(extra: ",\"max_tokens\":8");

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task A_free_plan_allows_one_small_model_up_to_its_daily_budget()
    {
        var plan = Unique("free");
        await host.AdminJson(HttpMethod.Post, "/admin/plans", new { name = plan, models = new[] { "mock/small" }, daily_budget = 3 * 0.000028m, time_zone = "UTC" });
        var (_, key) = await host.CreateKey(new { name = "free-user", plan });

        using var large = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/large", extra: ",\"max_tokens\":8"));
        await ApiErrors.AssertError(large, "/v1/chat/completions", 403, "model_not_allowed");
        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/small", extra: ",\"max_tokens\":8"));
            statuses.Add((int)response.StatusCode);
            if (i == 3)
            {
                await ApiErrors.AssertError(response, "/v1/chat/completions", 429, "budget_exceeded");
            }
        }

        Assert.Equal([200, 200, 200, 429], statuses);
        using var list = new HttpRequestMessage(HttpMethod.Get, host.BaseUrl + "/v1/models");
        list.Headers.Authorization = new("Bearer", key);
        using var models = await host.Http.SendAsync(list);
        var ids = JsonDocument.Parse(await models.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString());
        Assert.Equal(["mock/small"], ids);
    }

    [Fact]
    public async Task A_pro_plan_caps_large_model_requests_per_day_with_retry_after_to_the_next_day()
    {
        var plan = Unique("pro");
        await host.AdminJson(HttpMethod.Post, "/admin/plans", new { name = plan, daily_budget = 5m, model_daily_requests = new Dictionary<string, int> { ["mock/large"] = 2 }, time_zone = "Asia/Shanghai" });
        var (_, key) = await host.CreateKey(new { name = "pro-user", plan });

        var large = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            large.Add(await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/large", extra: ",\"max_tokens\":8")));
        }

        using var small = await host.Proxy("/v1/chat/completions", key, Capped);

        Assert.Equal([200, 200, 429], large.Select(r => (int)r.StatusCode));
        await ApiErrors.AssertError(large[2], "/v1/chat/completions", 429, "rate_limit_exceeded");
        var shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        var tomorrow = new DateTimeOffset(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, shanghai).Date.AddDays(1), TimeSpan.FromHours(8));
        Assert.InRange(large[2].Headers.RetryAfter!.Delta!.Value.TotalSeconds, (tomorrow - DateTimeOffset.UtcNow).TotalSeconds - 5, (tomorrow - DateTimeOffset.UtcNow).TotalSeconds + 5);
        Assert.Equal(200, (int)small.StatusCode);
        large.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task Editing_a_plan_changes_every_key_on_it_at_the_next_request()
    {
        var plan = Unique("tier");
        await host.AdminJson(HttpMethod.Post, "/admin/plans", new { name = plan, models = new[] { "mock/small" } });
        var (_, a) = await host.CreateKey(new { name = "a", plan });
        var (_, b) = await host.CreateKey(new { name = "b", plan });
        using (var denied = await host.Proxy("/v1/chat/completions", a, GatewayHost.Chat("mock/large")))
        {
            Assert.Equal(403, (int)denied.StatusCode);
        }

        await host.AdminJson(HttpMethod.Patch, "/admin/plans/" + plan, new { models = new[] { "mock/*" }, daily_requests = 1 });
        using var first = await host.Proxy("/v1/chat/completions", a, GatewayHost.Chat("mock/large"));
        using var second = await host.Proxy("/v1/chat/completions", b, GatewayHost.Chat("mock/large"));
        using var third = await host.Proxy("/v1/chat/completions", b, GatewayHost.Chat("mock/small"));

        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal(200, (int)second.StatusCode); // daily caps count per key
        await ApiErrors.AssertError(third, "/v1/chat/completions", 429, "rate_limit_exceeded");
    }

    [Fact]
    public async Task Where_key_and_plan_both_limit_the_stricter_applies()
    {
        var plan = Unique("rpm");
        await host.AdminJson(HttpMethod.Post, "/admin/plans", new { name = plan, rpm = 5 });
        var (_, key) = await host.CreateKey(new { name = "strict", plan, limits = new { rpm = 2 } });

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([200, 200, 429], statuses);
    }

    [Fact]
    public async Task Keys_may_only_name_existing_plans()
    {
        using var response = await host.Admin(HttpMethod.Post, "/admin/keys", new { name = "x", plan = "no-such-plan" });

        Assert.Equal(400, (int)response.StatusCode);
    }
}
