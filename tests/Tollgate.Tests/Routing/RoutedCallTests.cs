using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Caching;
using Tollgate.Gateway.Routing;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests.Routing;

/// <summary>
/// Calls to a route against the mock provider, whose model names ask for failures (<c>fail-429</c>, <c>fail-context</c>,
/// <c>slow-3000</c>): the attempts a call makes, their records, the response headers, cooldowns, rules, weights,
/// downgrades and the reservation at the dearest target.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RoutedCallTests(GatewayHost host)
{
    [Fact]
    public async Task A_429_moves_the_call_to_the_fallback_and_every_attempt_is_its_own_record()
    {
        var failing = $"mock/fail-429-{Unique}";
        var name = Save(targets: [failing], fallbacks: ["mock/echo"], retry: new RetryPolicy(1, 0, RetryPolicy.DefaultOn));
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name, extra: ""","max_tokens":8"""));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("mock/echo", Header(response, "X-Tollgate-Model"));
        Assert.Equal(name, Header(response, "X-Tollgate-Route"));
        Assert.Equal("2", Header(response, "X-Tollgate-Attempts"));
        var requestId = Header(response, "X-Tollgate-Request-Id");
        var records = await host.Records(id);
        Assert.Equal(2, records.Count);
        var (failed, answered) = (records.Single(r => r.Long("attempt") == 1), records.Single(r => r.Long("attempt") == 2));
        Assert.All(records, r => Assert.Equal(requestId, r.Text("request_id")));
        Assert.All(records, r => Assert.Equal(name, r.Text("route")));
        Assert.Equal(requestId, failed.Text("id"));
        Assert.Equal(failing, failed.Text("requested_model"));
        Assert.Equal(429, failed.Long("status"));
        Assert.Equal(0m, failed.Cost);
        Assert.Equal("weight", failed.Text("routing_reason"));
        Assert.Equal("mock/echo", answered.Text("requested_model"));
        Assert.Equal(200, answered.Long("status"));
        Assert.Equal("fallback", answered.Text("routing_reason"));
        Assert.True(answered.Cost > 0);
        Assert.Equal(decimal.Parse(Header(response, "X-Tollgate-Cost")!, System.Globalization.CultureInfo.InvariantCulture), answered.Cost);
    }

    [Fact]
    public async Task A_target_is_retried_after_a_backoff_before_the_next_fallback()
    {
        var failing = $"mock/fail-500-{Unique}";
        var name = Save(targets: [failing], fallbacks: ["mock/echo"], retry: new RetryPolicy(2, 50, RetryPolicy.DefaultOn));
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("3", Header(response, "X-Tollgate-Attempts"));
        var records = (await host.Records(id)).OrderBy(r => r.Long("attempt")).ToList();
        Assert.Equal([failing, failing, "mock/echo"], records.Select(r => r.Text("requested_model")));
        Assert.Equal([502L, 502L, 200L], records.Select(r => r.Long("status")));
    }

    [Fact]
    public async Task When_every_attempt_fails_the_client_gets_the_first_targets_error_in_its_API()
    {
        var failing = $"mock/fail-429-{Unique}";
        var name = Save(targets: [failing], fallbacks: [$"mock/fail-503-{Unique}"], retry: new RetryPolicy(1, 0, RetryPolicy.DefaultOn));
        var (id, key) = await host.CreateKey();

        using var chat = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));
        using var messages = await host.Proxy("/v1/messages", key, $$"""{"model":"{{name}}","max_tokens":8,"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(429, (int)chat.StatusCode);
        Assert.Equal(failing, Header(chat, "X-Tollgate-Model"));
        Assert.Equal("2", Header(chat, "X-Tollgate-Attempts"));
        Assert.Contains("x-mock-status 429", await chat.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(429, (int)messages.StatusCode);
        using var error = JsonDocument.Parse(await messages.Content.ReadAsStringAsync());
        Assert.Equal("error", error.RootElement.GetProperty("type").GetString());
        Assert.Equal(4, (await host.Records(id)).Count);
    }

    [Fact]
    public async Task Failures_not_listed_in_retry_on_end_the_call_at_the_first_target()
    {
        var name = Save(targets: [$"mock/fail-429-{Unique}"], fallbacks: ["mock/echo"], retry: new RetryPolicy(3, 0, ["500"]));
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));

        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal("1", Header(response, "X-Tollgate-Attempts"));
        Assert.Single(await host.Records(id));
    }

    [Fact]
    public async Task A_prompt_too_long_for_the_context_moves_straight_to_the_next_target()
    {
        var name = Save(targets: [$"mock/fail-context-{Unique}"], fallbacks: ["mock/echo"], retry: new RetryPolicy(3, 1000, RetryPolicy.DefaultOn));
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("2", Header(response, "X-Tollgate-Attempts"));
        Assert.Equal(2, (await host.Records(id)).Count);
    }

    [Fact]
    public async Task A_refused_connection_falls_back_and_costs_nothing()
    {
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name = "down", kind = "openai_compatible", base_url = "http://127.0.0.1:1/v1", api_key = "x" })).EnsureSuccessStatusCode();
        var name = Save(targets: ["down/any"], fallbacks: ["mock/echo"], retry: new RetryPolicy(1, 0, RetryPolicy.DefaultOn));
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));

        Assert.Equal(200, (int)response.StatusCode);
        var records = await host.Records(id);
        var refused = records.Single(r => r.Long("attempt") == 1);
        Assert.Equal("upstream_connect", refused.Text("error_class"));
        Assert.Equal(0m, refused.Cost);
        Assert.Equal(0, refused.Long("input_tokens"));
    }

    [Fact]
    public async Task A_stream_falls_back_before_its_first_byte_and_arrives_whole()
    {
        var name = Save(targets: [$"mock/fail-503-{Unique}"], fallbacks: ["mock/echo"], retry: new RetryPolicy(1, 0, RetryPolicy.DefaultOn));
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name, stream: true));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("mock/echo", Header(response, "X-Tollgate-Model"));
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"usage\"", body, StringComparison.Ordinal); // the client did not ask for it
        var records = await host.Records(id);
        Assert.Equal(2, records.Count);
        Assert.True(records.Single(r => r.Long("attempt") == 2).Long("output_tokens") > 0);
    }

    [Fact]
    public async Task A_silent_target_times_out_and_the_fallback_answers()
    {
        await using var quick = new GatewayHost(s => s.UpstreamIdleTimeoutSeconds = 1);
        await quick.InitializeAsync();
        var name = SaveOn(quick, targets: [$"mock/slow-4000-{Unique}"], fallbacks: ["mock/echo"], retry: new RetryPolicy(1, 0, RetryPolicy.DefaultOn));
        var (id, key) = await quick.CreateKey();

        using var response = await quick.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));

        Assert.Equal(200, (int)response.StatusCode);
        var records = await quick.Records(id);
        Assert.Equal("upstream_timeout", records.Single(r => r.Long("attempt") == 1).Text("error_class"));
        Assert.Equal(200, records.Single(r => r.Long("attempt") == 2).Long("status"));

        // The timed-out attempt was sent, so its input is billed (estimated); the call's cost header counts both attempts.
        Assert.True(records.Single(r => r.Long("attempt") == 1).Cost > 0);
        Assert.Equal(records.Sum(r => r.Cost), decimal.Parse(Header(response, "X-Tollgate-Cost")!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_target_that_keeps_failing_cools_down_and_is_tried_again_afterwards()
    {
        var name = Save(targets: [$"mock/fail-502-{Unique}"], fallbacks: ["mock/small"], retry: new RetryPolicy(1, 0, RetryPolicy.DefaultOn), cooldown: new CooldownPolicy(2, 1));
        var (id, key) = await host.CreateKey();

        for (var i = 0; i < 2; i++)
        {
            using var failing = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));
            Assert.Equal("2", Header(failing, "X-Tollgate-Attempts"));
        }

        using var skipped = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));
        Assert.Equal(200, (int)skipped.StatusCode);
        Assert.Equal("1", Header(skipped, "X-Tollgate-Attempts"));
        Assert.Equal("mock/small", Header(skipped, "X-Tollgate-Model"));

        await Task.Delay(1300);
        using var again = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));
        Assert.Equal("2", Header(again, "X-Tollgate-Attempts"));
        Assert.Equal(7, (await host.Records(id)).Count);
    }

    [PostgresFact]
    public async Task A_cooldown_opened_on_one_replica_is_skipped_on_another()
    {
        var (replica, url) = await host.StartReplicaAsync();
        await using (replica)
        {
            var failing = $"mock/fail-503-{Unique}";
            var name = "replicated-" + Unique;
            await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name, targets = new[] { new { model = failing } }, fallbacks = new[] { "mock/echo" }, retry = new { attempts = 1 }, cooldown = new { failures = 2, seconds = 60 } });
            var (_, key) = await host.CreateKey();

            async Task<string?> AttemptsOn(string baseUrl)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + "/v1/chat/completions") { Content = new StringContent(GatewayHost.Chat(name)) };
                request.Headers.Authorization = new("Bearer", key);
                using var response = await host.Http.SendAsync(request);
                Assert.Equal(200, (int)response.StatusCode);
                return Header(response, "X-Tollgate-Attempts");
            }

            // The replica's first call makes its cooldown table, which subscribes to announcements (not awaited: give it time).
            using (var warm = new HttpRequestMessage(HttpMethod.Post, url + "/v1/chat/completions") { Content = new StringContent(GatewayHost.Chat()) })
            {
                warm.Headers.Authorization = new("Bearer", key);
                (await host.Http.SendAsync(warm)).EnsureSuccessStatusCode();
            }

            await Task.Delay(1000);

            // Both failures on this replica open the cooldown; the other replica hears of it and skips the target on its
            // very first call (on its own it would need two failures of its own).
            Assert.Equal("2", await AttemptsOn(host.BaseUrl));
            Assert.Equal("2", await AttemptsOn(host.BaseUrl));
            await Task.Delay(300);
            var onReplica = await AttemptsOn(url);
            Assert.Equal("1", onReplica);
            await replica.StopAsync();
        }
    }

    [Fact]
    public async Task Rules_pick_the_target_first_match_wins_and_weights_share_the_rest()
    {
        var name = Save(
            targets: ["mock/echo", "mock/large"],
            weights: [3, 1],
            rules:
            [
                new RouteRule(new RouteCondition(HasTools: true), "mock/tools"),
                new RouteRule(new RouteCondition(Matches: "(?i)prove"), "mock/prover"),
                new RouteRule(new RouteCondition(Header: new Dictionary<string, string> { ["X-Tier"] = "gold" }), "mock/gold"),
                new RouteRule(new RouteCondition(MinInputTokens: 200), "mock/long"),
            ]);
        var (id, key) = await host.CreateKey();

        Assert.Equal("mock/tools", await Served(key, GatewayHost.Chat(name, extra: ""","tools":[{"type":"function","function":{"name":"f","parameters":{}}}]""")));
        Assert.Equal("mock/prover", await Served(key, $$"""{"model":"{{name}}","messages":[{"role":"user","content":"Please PROVE it"}]}"""));
        Assert.Equal("mock/gold", await Served(key, GatewayHost.Chat(name), ("X-Tier", "gold")));
        Assert.Equal("mock/long", await Served(key, $$"""{"model":"{{name}}","messages":[{"role":"user","content":"{{string.Join(' ', Enumerable.Repeat("word", 300))}}"}]}"""));
        var served = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            served.Add(await Served(key, GatewayHost.Chat(name)));
        }

        Assert.InRange(served.Count(m => m == "mock/echo"), 120, 180);
        Assert.Equal(200, served.Count(m => m is "mock/echo" or "mock/large"));
        var records = await host.Records(id);
        Assert.Equal(4, records.Count(r => r.Text("routing_reason") == "rule"));
        Assert.Equal(200, records.Count(r => r.Text("routing_reason") == "weight"));
    }

    [Fact]
    public async Task A_complexity_rule_sends_hard_prompts_to_the_big_model_whatever_their_length()
    {
        var name = Save(targets: ["mock/small"], rules: [new RouteRule(new RouteCondition(Complexity: "high"), "mock/big")]);
        var (_, key) = await host.CreateKey();
        var page = string.Join(' ', Enumerable.Repeat("The quarterly report describes our sales in the northern region, which grew steadly.", 40));

        Assert.Equal("mock/big", await Served(key, $$"""{"model":"{{name}}","messages":[{"role":"user","content":"Prove that there are infinitely many primes of the form 4k+3."}]}"""));
        Assert.Equal("mock/small", await Served(key, $$"""{"model":"{{name}}","messages":[{"role":"user","content":"{{page}}\n\nFix the typos in the text above."}]}"""));
        Assert.Equal("mock/small", await Served(key, $$"""{"model":"{{name}}","messages":[{"role":"user","content":"What is the capital of France?"}]}"""));
    }

    [Fact]
    public async Task A_body_nested_as_deep_as_the_request_check_allows_is_routed_by_its_rules()
    {
        // 100 levels: deeper than a JSON reader's default limit (64), within the request check's (256).
        var name = Save(targets: ["mock/small"], rules: [new RouteRule(new RouteCondition(Matches: "(?i)prove"), "mock/prover")]);
        var (_, key) = await host.CreateKey();
        var deep = new string('[', 100) + new string(']', 100);

        using var response = await host.Proxy("/v1/chat/completions", key, $$"""{"model":"{{name}}","x_extra":{{deep}},"messages":[{"role":"user","content":"Please prove it"}]}""");

        // Routed by the rule and forwarded; the mock provider itself refuses JSON deeper than 64 levels, in the API's shape.
        Assert.Equal("mock/prover", Header(response, "X-Tollgate-Model"));
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("mock: malformed JSON", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_classifier_runs_only_when_a_rule_with_a_complexity_condition_is_evaluated()
    {
        var name = Save(
            targets: ["mock/small"],
            rules:
            [
                new RouteRule(new RouteCondition(Matches: "(?i)^translate"), "mock/translator"),
                new RouteRule(new RouteCondition(Complexity: "high"), "mock/big"),
                new RouteRule(new RouteCondition(Complexity: "low"), "mock/little"),
            ]);
        var plain = Save(targets: ["mock/small"], rules: [new RouteRule(new RouteCondition(Matches: "(?i)^translate"), "mock/translator")]);
        var (_, key) = await host.CreateKey();
        var classifier = host.Services.GetRequiredService<ComplexityModel>();
        var before = classifier.Classifications;

        // First match wins: an earlier rule that holds ends the evaluation before the complexity rules.
        Assert.Equal("mock/translator", await Served(key, $$"""{"model":"{{name}}","messages":[{"role":"user","content":"Translate 'good night' into Spanish."}]}"""));
        Assert.Equal("mock/small", await Served(key, $$"""{"model":"{{plain}}","messages":[{"role":"user","content":"Prove that the square root of 2 is irrational."}]}"""));
        Assert.Equal(before, classifier.Classifications);

        // Two complexity rules evaluated in one call classify the prompt once.
        Assert.Equal("mock/little", await Served(key, $$"""{"model":"{{name}}","messages":[{"role":"user","content":"What is the capital of France?"}]}"""));
        Assert.Equal(before + 1, classifier.Classifications);
    }

    [Fact]
    public async Task A_cheaper_rule_target_records_what_it_saved_against_the_first_target()
    {
        await Price("mock/pricey", 10m);
        var name = Save(targets: ["mock/pricey"], rules: [new RouteRule(new RouteCondition(Feature: "faq"), "mock/echo")]);
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name, extra: ""","max_tokens":8"""), ("X-Feature", "faq"));

        Assert.Equal(200, (int)response.StatusCode);
        var record = Assert.Single(await host.Records(id));
        var usageAtFirstPrice = ((record.Long("input_tokens") * 10m) + (record.Long("output_tokens") * 10m)) / 1_000_000m;
        Assert.Equal(usageAtFirstPrice - record.Cost, Money(record.Long("routing_savings_e10")));
        var usage = await host.AdminJson(HttpMethod.Get, "/admin/usage?group_by=route");
        Assert.Contains(usage.EnumerateArray(), row => row.TryGetProperty("route", out var r) && r.GetString() == name);
    }

    [Fact]
    public async Task A_budget_near_its_limit_downgrades_and_a_call_the_first_target_no_longer_fits_is_downgraded_not_refused()
    {
        await Price("mock/big", 1000m);
        await Price("mock/little", 1m);
        var name = Save(targets: ["mock/big"], downgrade: new RouteDowngrade(0.8m, "mock/little"));
        var (id, key) = await host.CreateKey(new { name = "capped", budget = new { period = "day", hard = 0.05m } });
        var call = GatewayHost.Chat(name, extra: ""","max_tokens":8""");

        Assert.Equal("mock/big", await Served(key, call));
        Assert.Equal("mock/big", await Served(key, call));
        var spent = (await host.Records(id)).Sum(r => r.Cost);
        Assert.True(spent >= 0.04m, $"spent {spent}");

        using var downgraded = await host.Proxy("/v1/chat/completions", key, call);
        Assert.Equal(200, (int)downgraded.StatusCode);
        Assert.Equal("mock/little", Header(downgraded, "X-Tollgate-Model"));
        Assert.Equal("downgrade", (await host.Records(id)).Last(r => r.Text("requested_model") == "mock/little").Text("routing_reason"));

        // At 0.99 the share does not trigger, but the big model's reservation no longer fits: the downgrade serves it.
        var late = Save(targets: ["mock/big"], downgrade: new RouteDowngrade(0.99m, "mock/little"));
        using var refusedThenDowngraded = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(late, extra: ""","max_tokens":8"""));
        Assert.Equal(200, (int)refusedThenDowngraded.StatusCode);
        Assert.Equal("mock/little", Header(refusedThenDowngraded, "X-Tollgate-Model"));

        // Served, so not refused: no budget.exceeded alert. A call the downgrade cannot serve either is refused, with its
        // alert. Alerts are raised once per period and written in the background, so the one alert must come from the
        // refused call: had the downgraded call raised it, it would be older and the refusal's would have been dropped.
        await host.Admin(HttpMethod.Put, "/admin/prices/mock/little", new { input_per_mtok = 1000m, cached_input_per_mtok = 1000m, output_per_mtok = 1000m });
        var beforeRefusal = DateTimeOffset.UtcNow.AddMilliseconds(-1);
        using var refused = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(late, extra: ""","max_tokens":8"""));
        await ApiErrors.AssertError(refused, "/v1/chat/completions", 429, "budget_exceeded");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        List<JsonElement> alerts;
        while ((alerts = await BudgetExceeded(id)).Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var alert = Assert.Single(alerts);
        Assert.True(alert.GetProperty("created_at").GetDateTimeOffset() >= beforeRefusal);
    }

    private async Task<List<JsonElement>> BudgetExceeded(string keyId) =>
        [.. (await host.AdminJson(HttpMethod.Get, "/admin/alerts?type=budget.exceeded")).EnumerateArray()
            .Where(a => a.GetProperty("data").TryGetProperty("key_id", out var k) && k.GetString() == keyId)];

    [Fact]
    public async Task The_reservation_is_made_at_the_dearest_target_the_call_may_reach()
    {
        await Price("mock/dear", 1000m);
        var name = Save(targets: ["mock/echo"], fallbacks: ["mock/dear"]);
        var (_, key) = await host.CreateKey(new { name = "small budget", budget = new { period = "day", hard = 0.01m } });

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name, extra: ""","max_tokens":8"""));

        // 20 tokens at $1000/M is $0.02, more than the whole budget, though the first target alone would cost $0.00004.
        await ApiErrors.AssertError(response, "/v1/chat/completions", 429, "budget_exceeded");
    }

    [Fact]
    public async Task Allowlists_may_name_a_route_and_v1_models_lists_the_routes_a_key_may_use()
    {
        var name = Save(targets: ["mock/echo"], fallbacks: ["mock/small"]);
        var (_, byName) = await host.CreateKey(new { name = "by name", models = new[] { name } });
        var (_, byProvider) = await host.CreateKey(new { name = "by provider", models = new[] { "mock/*" } });
        var (_, narrow) = await host.CreateKey(new { name = "narrow", models = new[] { "mock/echo" } });

        using var allowed = await host.Proxy("/v1/chat/completions", byName, GatewayHost.Chat(name));
        using var alsoAllowed = await host.Proxy("/v1/chat/completions", byProvider, GatewayHost.Chat(name));
        using var denied = await host.Proxy("/v1/chat/completions", narrow, GatewayHost.Chat(name));

        Assert.Equal(200, (int)allowed.StatusCode);
        Assert.Equal(200, (int)alsoAllowed.StatusCode);
        await ApiErrors.AssertError(denied, "/v1/chat/completions", 403, "model_not_allowed");
        Assert.Contains(name, await Models(byName));
        Assert.Contains(name, await Models(byProvider));
        Assert.DoesNotContain(name, await Models(narrow));
    }

    private async Task<List<string>> Models(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, host.BaseUrl + "/v1/models");
        request.Headers.Authorization = new("Bearer", key);
        using var response = await host.Http.SendAsync(request);
        var list = await response.Content.ReadFromJsonAsync<JsonElement>();
        return [.. list.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!)];
    }

    private async Task<string> Served(string key, string body, params (string, string)[] headers)
    {
        using var response = await host.Proxy("/v1/chat/completions", key, body, headers);
        Assert.Equal(200, (int)response.StatusCode);
        return Header(response, "X-Tollgate-Model")!;
    }

    private async Task Price(string model, decimal perMtok) =>
        (await host.Admin(HttpMethod.Put, "/admin/prices/" + model, new { input_per_mtok = perMtok, cached_input_per_mtok = perMtok, output_per_mtok = perMtok })).EnsureSuccessStatusCode();

    private string Save(string[] targets, string[]? fallbacks = null, RetryPolicy? retry = null, CooldownPolicy? cooldown = null, int[]? weights = null, RouteRule[]? rules = null, RouteDowngrade? downgrade = null) =>
        SaveOn(host, targets, fallbacks, retry, cooldown, weights, rules, downgrade);

    private static string SaveOn(GatewayHost on, string[] targets, string[]? fallbacks = null, RetryPolicy? retry = null, CooldownPolicy? cooldown = null, int[]? weights = null, RouteRule[]? rules = null, RouteDowngrade? downgrade = null)
    {
        var name = "route-" + Guid.NewGuid().ToString("N")[..8];
        on.Services.GetRequiredService<RouteTable>().Save(new Route(
            name,
            [.. targets.Select((t, i) => new RouteTarget(t, weights?[i] ?? 1))],
            rules ?? [],
            downgrade,
            fallbacks ?? [],
            retry ?? RetryPolicy.Default,
            cooldown ?? CooldownPolicy.Default,
            DropUnsupportedParams: false,
            DateTimeOffset.UtcNow));
        return name;
    }

    /// <summary>A suffix that keeps one test's failing targets (and their cooldowns) apart from another's.</summary>
    private static string Unique => Guid.NewGuid().ToString("N")[..6];

    private static decimal Money(long e10) => e10 / 10_000_000_000m;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First() : null;
}

/// <summary>The complexity classifier runs only for routes with a complexity rule, and never needs the embedding model.</summary>
public sealed class ComplexityModelLoadingTests
{
    [Fact]
    public async Task A_gateway_without_a_complexity_rule_classifies_nothing()
    {
        await using var host = new GatewayHost();
        await host.InitializeAsync();
        var route = Save(host, [new RouteRule(new RouteCondition(Matches: "(?i)prove"), "mock/big"), new RouteRule(new RouteCondition(MinInputTokens: 200), "mock/long")]);
        var (_, key) = await host.CreateKey();

        foreach (var prompt in new[] { "Prove that there are infinitely many primes of the form 4k+3.", "What is the capital of France?" })
        {
            using var response = await host.Proxy("/v1/chat/completions", key, $$"""{"model":"{{route}}","messages":[{"role":"user","content":"{{prompt}}"}]}""");
            Assert.Equal(200, (int)response.StatusCode);
        }

        Assert.Equal(0, host.Services.GetRequiredService<ComplexityModel>().Classifications);
    }

    [Fact]
    public async Task A_complexity_route_classifies_without_loading_the_embedding_model()
    {
        await using var host = new GatewayHost();
        await host.InitializeAsync();
        var route = Save(host, [new RouteRule(new RouteCondition(Complexity: "high"), "mock/big")]);
        var (_, key) = await host.CreateKey();

        using var hard = await host.Proxy("/v1/chat/completions", key, $$"""{"model":"{{route}}","messages":[{"role":"user","content":"Prove that there are infinitely many primes of the form 4k+3."}]}""");
        using var easy = await host.Proxy("/v1/chat/completions", key, $$"""{"model":"{{route}}","messages":[{"role":"user","content":"What is the capital of France?"}]}""");

        Assert.Equal("mock/big", hard.Headers.GetValues("X-Tollgate-Model").Single());
        Assert.NotEqual("mock/big", easy.Headers.GetValues("X-Tollgate-Model").Single());
        Assert.Equal(2, host.Services.GetRequiredService<ComplexityModel>().Classifications);
        Assert.False(host.Services.GetRequiredService<TextEmbedder>().Loaded); // only a semantic cache policy loads it
    }

    private static string Save(GatewayHost host, RouteRule[] rules)
    {
        var name = "route-" + Guid.NewGuid().ToString("N")[..8];
        host.Services.GetRequiredService<RouteTable>().Save(new Route(
            name, [new RouteTarget("mock/echo"), new RouteTarget("mock/small")], rules, null, [], RetryPolicy.Default, CooldownPolicy.Default, DropUnsupportedParams: false, DateTimeOffset.UtcNow));
        return name;
    }
}

/// <summary>Routes whose target speaks the other API: the call is translated there and back, streaming included.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TranslatedRouteTests(GatewayHost host)
{
    [Fact]
    public async Task A_chat_client_served_by_an_anthropic_provider_gets_chat_answers_and_streams()
    {
        var name = await Route("anthropic-kind", "anthropic");
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, $$"""{"model":"{{name}}","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":8}""");
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        using var stream = await host.Proxy("/v1/chat/completions", key, $$"""{"model":"{{name}}","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}],"max_tokens":8}""");
        var events = (await stream.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("chat.completion", answer.GetProperty("object").GetString());
        Assert.Equal("assistant", answer.GetProperty("choices")[0].GetProperty("message").GetProperty("role").GetString());
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
        Assert.Equal("stop", answer.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var records = await host.Records(id);
        Assert.Equal(answer.GetProperty("usage").GetProperty("prompt_tokens").GetInt64(), records[0].Long("input_tokens"));
        Assert.Equal("data: [DONE]", events[^1]);
        var usage = JsonDocument.Parse(events[^2]["data: ".Length..]).RootElement;
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(records[1].Long("output_tokens"), usage.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.All(events[..^1], e => Assert.Equal("chat.completion.chunk", JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("object").GetString()));
        Assert.Equal(2, records.Count);
    }

    [Fact]
    public async Task A_messages_client_served_by_an_openai_provider_gets_messages_answers_and_streams()
    {
        var name = await Route("openai-kind", "openai");
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/messages", key, $$"""{"model":"{{name}}","max_tokens":8,"system":"Be brief.","messages":[{"role":"user","content":"Hi"}]}""");
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        using var stream = await host.Proxy("/v1/messages", key, $$"""{"model":"{{name}}","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var body = await stream.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("message", answer.GetProperty("type").GetString());
        Assert.Equal("text", answer.GetProperty("content")[0].GetProperty("type").GetString());
        Assert.Equal("end_turn", answer.GetProperty("stop_reason").GetString());
        Assert.StartsWith("event: message_start", body, StringComparison.Ordinal);
        Assert.Contains("event: content_block_delta", body, StringComparison.Ordinal);
        Assert.EndsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", body, StringComparison.Ordinal);
        var records = await host.Records(id);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.True(r.Long("output_tokens") > 0));
    }

    [Fact]
    public async Task Parameters_the_other_API_lacks_get_400_naming_them_unless_the_route_drops_them()
    {
        var strict = await Route("anthropic-kind", "anthropic");
        var lenient = await Route("anthropic-kind", "anthropic", drop: true);
        var (_, key) = await host.CreateKey();
        var body = """{"model":"NAME","n":2,"logprobs":true,"messages":[{"role":"user","content":"Hi"}]}""";

        using var refused = await host.Proxy("/v1/chat/completions", key, body.Replace("NAME", strict, StringComparison.Ordinal));
        using var dropped = await host.Proxy("/v1/chat/completions", key, body.Replace("NAME", lenient, StringComparison.Ordinal));

        await ApiErrors.AssertError(refused, "/v1/chat/completions", 400, "invalid_request");
        var message = await refused.Content.ReadAsStringAsync();
        Assert.Contains("'n'", message, StringComparison.Ordinal);
        Assert.Contains("'logprobs'", message, StringComparison.Ordinal);
        Assert.Equal(200, (int)dropped.StatusCode);
    }

    private async Task<string> Route(string provider, string kind, bool drop = false)
    {
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name = provider, kind, base_url = host.Mock.BaseUrl + "/v1", api_key = "k" })).EnsureSuccessStatusCode();
        (await host.Admin(HttpMethod.Put, $"/admin/prices/{provider}/*", new { input_per_mtok = 1m, cached_input_per_mtok = 0.1m, output_per_mtok = 2m })).EnsureSuccessStatusCode();
        var name = "translated-" + Guid.NewGuid().ToString("N")[..8];
        (await host.Admin(HttpMethod.Post, "/admin/routes", new { name, targets = new[] { new { model = provider + "/echo" } }, drop_unsupported_params = drop })).EnsureSuccessStatusCode();
        return name;
    }
}
