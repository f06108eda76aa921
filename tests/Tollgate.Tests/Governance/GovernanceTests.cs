using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Metering;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Governance behaviour, run against in-process counters and against Redis counters alike.</summary>
public abstract class GovernanceTests(GatewayHost host)
{
    /// <summary>A chat body with max_tokens 8, and the headers that make the mock report exactly what the gateway reserves.</summary>
    private static (string Body, (string, string)[] Headers, decimal Cost) ExactCall()
    {
        var body = """{"model":"mock/echo","max_tokens":8,"messages":[{"role":"user","content":"Count the tollgates on the road to Shanghai."}]}""";
        var input = TokenEstimator.EstimateInput(Encoding.UTF8.GetBytes(body));
        var cost = ((input * 1.00m) + (8 * 2.00m)) / 1_000_000m;
        return (body, [("x-mock-prompt-tokens", input.ToString(CultureInfo.InvariantCulture)), ("x-mock-completion-tokens", "8")], cost);
    }

    [Theory]
    [InlineData(120, 100, 100)] // the team budget is the tighter
    [InlineData(50, 1000, 50)] // the key budget is the tighter
    public async Task Hard_budgets_hold_exactly_under_500_parallel_calls(int keyCalls, int teamCalls, int expectedAccepted)
    {
        var team = "team-" + Guid.NewGuid().ToString("N")[..8];
        var (body, headers, cost) = ExactCall();
        await host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "team", subject = team, period = "day", hard = teamCalls * cost, time_zone = "UTC" });
        var (id, key) = await host.CreateKey(new { name = "burst", owner = new { team }, budget = new { period = "month", hard = keyCalls * cost } });

        var statuses = await Task.WhenAll(Enumerable.Range(0, 500).Select(async _ =>
        {
            using var response = await host.Proxy("/v1/chat/completions", key, body, headers);
            await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, response.Headers.TryGetValues("X-Tollgate-Error-Code", out var code) ? code.Single() : null);
        }));

        Assert.Equal(expectedAccepted, statuses.Count(s => s.Item1 == 200));
        Assert.All(statuses.Where(s => s.Item1 != 200), s => Assert.Equal((429, "budget_exceeded"), s));
        var records = await host.Records(id);
        Assert.Equal(expectedAccepted, records.Count);
        Assert.Equal(expectedAccepted * cost, records.Sum(r => r.Cost)); // never a cent over the tighter budget
        var budgets = await host.AdminJson(HttpMethod.Get, "/admin/budgets");
        var mine = budgets.EnumerateArray().Single(b => b.GetProperty("subject").GetString() == team);
        Assert.Equal(expectedAccepted * cost, mine.GetProperty("spent").GetDecimal());
    }

    [Theory]
    [InlineData("mock/echo")]
    [InlineData("mock/small")]
    [InlineData("mock/large")]
    public void The_default_test_call_is_estimated_at_the_mocks_default_input_so_it_reserves_what_it_costs(string model) =>
        Assert.Equal(12, TokenEstimator.EstimateInput(Encoding.UTF8.GetBytes(GatewayHost.Chat(model, extra: ",\"max_tokens\":8"))));

    [Fact]
    public async Task A_refused_budget_answers_429_with_retry_after_to_the_period_end()
    {
        var (_, key) = await host.CreateKey(new { name = "tiny", budget = new { period = "day", hard = 0.000001m, time_zone = "UTC" } });

        using var response = await host.Proxy("/v1/messages", key, """{"model":"mock/echo","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""");

        await ApiErrors.AssertError(response, "/v1/messages", 429, "budget_exceeded");
        var retryAfter = response.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        var untilMidnight = (DateTime.UtcNow.Date.AddDays(1) - DateTime.UtcNow).TotalSeconds;
        Assert.InRange(retryAfter, untilMidnight - 5, untilMidnight + 5);
    }

    [Fact]
    public async Task A_quota_rule_refuses_when_its_cycle_is_used_up_and_every_admin_action_applies_at_once()
    {
        var (keyId, key) = await host.CreateKey();
        var (body, headers, _) = ExactCall();
        var perCall = long.Parse(headers[0].Item2, CultureInfo.InvariantCulture) + 8;
        var rule = await host.AdminJson(HttpMethod.Post, "/admin/quota-rules", new { name = "daily", limit_tokens = perCall * 2, cycle = "day", consumers = new[] { "key:" + keyId } });
        var ruleId = rule.GetProperty("id").GetString();
        Assert.Equal("Asia/Shanghai", rule.GetProperty("time_zone").GetString());

        async Task<int> Call()
        {
            using var response = await host.Proxy("/v1/chat/completions", key, body, headers);
            if ((int)response.StatusCode == 429)
            {
                await ApiErrors.AssertError(response, "/v1/chat/completions", 429, "token_quota_exceeded");
                var shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
                var localNow = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, shanghai);
                var reset = new DateTimeOffset(localNow.Date.AddDays(1), TimeSpan.FromHours(8));
                Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, (reset - DateTimeOffset.UtcNow).TotalSeconds - 5, (reset - DateTimeOffset.UtcNow).TotalSeconds + 5);
            }

            return (int)response.StatusCode;
        }

        Assert.Equal(200, await Call());
        Assert.Equal(200, await Call());
        Assert.Equal(429, await Call());
        var usage = (await host.AdminJson(HttpMethod.Get, $"/admin/quota-rules/{ruleId}/usage")).EnumerateArray().Single();
        Assert.Equal("key:" + keyId, usage.GetProperty("consumer").GetString());
        Assert.Equal(perCall * 2, usage.GetProperty("used_tokens").GetInt64());
        Assert.Equal(0, usage.GetProperty("remaining_tokens").GetInt64());
        Assert.Equal(16, usage.GetProperty("output_tokens").GetInt64());
        Assert.Equal(perCall * 2, usage.GetProperty("total_tokens").GetInt64());

        await host.AdminJson(HttpMethod.Post, $"/admin/quota-rules/{ruleId}/disable");
        Assert.Equal(200, await Call());
        await host.AdminJson(HttpMethod.Post, $"/admin/quota-rules/{ruleId}/enable");
        Assert.Equal(429, await Call());
        await host.AdminJson(HttpMethod.Patch, $"/admin/quota-rules/{ruleId}", new { limit_tokens = perCall * 10 });
        Assert.Equal(200, await Call());
        await host.AdminJson(HttpMethod.Patch, $"/admin/quota-rules/{ruleId}", new { limit_tokens = perCall });
        Assert.Equal(429, await Call());
        await host.AdminJson(HttpMethod.Post, $"/admin/quota-rules/{ruleId}/reset");
        Assert.Equal(0, (await host.AdminJson(HttpMethod.Get, $"/admin/quota-rules/{ruleId}/usage"))[0].GetProperty("used_tokens").GetInt64());
        Assert.Equal(200, await Call());
        Assert.Equal(429, await Call());
        (await host.Admin(HttpMethod.Delete, $"/admin/quota-rules/{ruleId}")).EnsureSuccessStatusCode();
        Assert.Equal(200, await Call());
    }

    [Fact]
    public async Task Every_quota_rule_that_covers_a_request_must_fit()
    {
        var team = "q-team-" + Guid.NewGuid().ToString("N")[..8];
        var (keyId, key) = await host.CreateKey(new { name = "q", owner = new { team } });
        var (body, headers, _) = ExactCall();
        var perCall = long.Parse(headers[0].Item2, CultureInfo.InvariantCulture) + 8;
        await host.AdminJson(HttpMethod.Post, "/admin/quota-rules", new { name = "key-weekly", limit_tokens = perCall * 10, cycle = "week", time_zone = "Europe/Berlin", consumers = new[] { "key:" + keyId } });
        await host.AdminJson(HttpMethod.Post, "/admin/quota-rules", new { name = "team-monthly", limit_tokens = perCall, cycle = "month", consumers = new[] { "team:" + team } });

        using var first = await host.Proxy("/v1/chat/completions", key, body, headers);
        using var second = await host.Proxy("/v1/chat/completions", key, body, headers);

        Assert.Equal(200, (int)first.StatusCode);
        await ApiErrors.AssertError(second, "/v1/chat/completions", 429, "token_quota_exceeded");
        Assert.Contains("team-monthly", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rpm_limits_refuse_the_request_over_the_limit_and_report_openai_style_headers()
    {
        var (_, key) = await host.CreateKey(new { name = "rpm", limits = new { rpm = 3 } });

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            responses.Add(await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat()));
        }

        Assert.Equal([200, 200, 200, 429], responses.Select(r => (int)r.StatusCode));
        Assert.Equal(["2", "1", "0"], responses.Take(3).Select(r => r.Headers.GetValues("x-ratelimit-remaining-requests").Single()));
        Assert.All(responses.Take(3), r => Assert.Equal("3", r.Headers.GetValues("x-ratelimit-limit-requests").Single()));
        Assert.EndsWith("s", responses[2].Headers.GetValues("x-ratelimit-reset-requests").Single(), StringComparison.Ordinal);
        await ApiErrors.AssertError(responses[3], "/v1/chat/completions", 429, "rate_limit_exceeded");
        Assert.InRange(responses[3].Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 20);
        responses.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task Tpm_limits_count_the_estimate_and_anthropic_callers_get_anthropic_headers()
    {
        var (_, key) = await host.CreateKey(new { name = "tpm", limits = new { tpm = 100, rpm = 100 } });
        const string body = """{"model":"mock/echo","max_tokens":40,"messages":[{"role":"user","content":"hi"}]}""";

        using var first = await host.Proxy("/v1/messages", key, body);
        using var second = await host.Proxy("/v1/messages", key, body);
        using var third = await host.Proxy("/v1/messages", key, body);

        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("100", first.Headers.GetValues("anthropic-ratelimit-tokens-limit").Single());
        Assert.True(DateTimeOffset.TryParse(first.Headers.GetValues("anthropic-ratelimit-requests-reset").Single(), CultureInfo.InvariantCulture, out _));
        // The first call settles at its actual 20 tokens, so the second (reserving ~45) still fits; the third may not.
        Assert.Equal(200, (int)second.StatusCode);
        Assert.Contains((int)third.StatusCode, new[] { 200, 429 });
        var big = """{"model":"mock/echo","max_tokens":500,"messages":[{"role":"user","content":"hi"}]}""";
        using var tooBig = await host.Proxy("/v1/messages", key, big);
        await ApiErrors.AssertError(tooBig, "/v1/messages", 429, "rate_limit_exceeded");
    }

    [Fact]
    public async Task Group_limits_apply_to_every_key_of_the_group()
    {
        var team = "lim-" + Guid.NewGuid().ToString("N")[..8];
        await host.AdminJson(HttpMethod.Post, "/admin/limits", new { scope = "team", subject = team, rpm = 2 });
        var (_, a) = await host.CreateKey(new { name = "a", owner = new { team } });
        var (_, b) = await host.CreateKey(new { name = "b", owner = new { team } });

        using var r1 = await host.Proxy("/v1/chat/completions", a, GatewayHost.Chat());
        using var r2 = await host.Proxy("/v1/chat/completions", b, GatewayHost.Chat());
        using var r3 = await host.Proxy("/v1/chat/completions", a, GatewayHost.Chat());

        Assert.Equal(200, (int)r1.StatusCode);
        Assert.Equal(200, (int)r2.StatusCode);
        await ApiErrors.AssertError(r3, "/v1/chat/completions", 429, "rate_limit_exceeded");
    }

    [Fact]
    public async Task A_budget_created_mid_period_starts_from_what_the_ledger_already_holds()
    {
        var project = "proj-" + Guid.NewGuid().ToString("N")[..8];
        var (_, key) = await host.CreateKey();
        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("X-Project-ID", project));
            Assert.Equal(200, (int)response.StatusCode);
        }

        var budget = await host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "project", subject = project, period = "month", hard = 0.0001m });

        Assert.Equal(3 * 0.000028m, budget.GetProperty("spent").GetDecimal());
        Assert.Equal(0.0001m - (3 * 0.000028m), budget.GetProperty("remaining").GetDecimal());
    }

    [Theory]
    [InlineData("/v1/chat/completions", "requests")]
    [InlineData("/v1/chat/completions", "tokens")]
    [InlineData("/v1/messages", "requests")]
    [InlineData("/v1/messages", "tokens")]
    public async Task A_request_refused_by_an_rpm_or_tpm_limit_carries_the_rate_limit_headers_with_nothing_remaining(string path, string refusedBy)
    {
        var (body, headers, _) = ExactCall();
        var perCall = long.Parse(headers[0].Item2, CultureInfo.InvariantCulture) + 8;
        var limits = refusedBy == "requests" ? new { rpm = 2L, tpm = 1_000_000L } : new { rpm = 1_000L, tpm = (perCall * 2) + 1 };
        var (_, key) = await host.CreateKey(new { name = "limited", limits });
        var anthropic = path == "/v1/messages";
        string Header(string kind, string part) => anthropic ? $"anthropic-ratelimit-{kind}-{part}" : $"x-ratelimit-{part}-{kind}";

        for (var i = 0; i < 2; i++)
        {
            using var served = await host.Proxy(path, key, body, headers);
            Assert.Equal(200, (int)served.StatusCode);
            Assert.True(served.Headers.Contains(Header(refusedBy, "remaining")));
        }

        using var refused = await host.Proxy(path, key, body, headers);

        await ApiErrors.AssertError(refused, path, 429, "rate_limit_exceeded");
        Assert.NotNull(refused.Headers.RetryAfter);
        var other = refusedBy == "requests" ? "tokens" : "requests";
        Assert.Equal(refusedBy == "requests" ? "2" : ((perCall * 2) + 1).ToString(CultureInfo.InvariantCulture), refused.Headers.GetValues(Header(refusedBy, "limit")).Single());
        Assert.Equal("0", refused.Headers.GetValues(Header(refusedBy, "remaining")).Single());
        Assert.True(long.Parse(refused.Headers.GetValues(Header(other, "remaining")).Single(), CultureInfo.InvariantCulture) > 0);
        var reset = refused.Headers.GetValues(Header(refusedBy, "reset")).Single();
        if (anthropic)
        {
            Assert.True(DateTimeOffset.Parse(reset, CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddSeconds(-1));
        }
        else
        {
            Assert.Matches(@"^\d+(\.\d+)?(ms|s)$|^\d+m\d+s$", reset);
        }
    }

    [Theory]
    [InlineData("{\"name\":\"q\",\"limit_tokens\":0,\"cycle\":\"day\",\"consumers\":[\"key:x\"]}")]
    [InlineData("{\"name\":\"q\",\"limit_tokens\":10,\"cycle\":\"year\",\"consumers\":[\"key:x\"]}")]
    [InlineData("{\"name\":\"q\",\"limit_tokens\":10,\"cycle\":\"day\",\"time_zone\":\"Mars/Olympus\",\"consumers\":[\"key:x\"]}")]
    [InlineData("{\"name\":\"q\",\"limit_tokens\":10,\"cycle\":\"day\",\"consumers\":[\"planet:x\"]}")]
    [InlineData("{\"name\":\"q\",\"limit_tokens\":10,\"cycle\":\"day\",\"consumers\":[]}")]
    public async Task Bad_quota_rules_get_400(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, host.BaseUrl + "/admin/quota-rules") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", GatewayHost.MasterKey);

        using var response = await host.Http.SendAsync(request);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("invalid_request", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
    }
}
