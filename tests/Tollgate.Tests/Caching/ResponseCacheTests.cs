using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests.Caching;

/// <summary>
/// The exact-match response cache against the mock provider: hits never reach the provider, namespaces keep keys and
/// teams apart, request controls, records of hits, RPM counting and the admin API. Policies here are scoped to one
/// test's key, team or project, so the shared gateway's other tests never see them.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ResponseCacheTests(GatewayHost host)
{
    [Fact]
    public async Task A_repeated_request_is_answered_from_the_cache_without_reaching_the_provider()
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id });
        var marker = Unique;
        var body = Chat(marker);

        using var first = await host.Proxy("/v1/chat/completions", key, body);
        var firstBody = await first.Content.ReadAsStringAsync();
        // The same request with its members in another order and other spacing and escapes: the same canonical key.
        using var second = await host.Proxy("/v1/chat/completions", key, $$"""{ "messages" : [ { "content" : "Say {{marker}}", "role" : "user" } ], "max_tokens": 8, "model" : "mock\/echo" }""");
        var secondBody = await second.Content.ReadAsStringAsync();

        Assert.Equal("miss", Header(first, "X-Tollgate-Cache"));
        Assert.Equal("hit", Header(second, "X-Tollgate-Cache"));
        Assert.Equal("0", Header(second, "X-Tollgate-Cache-Age"));
        Assert.Equal("0", Header(second, "X-Tollgate-Cost"));
        Assert.Equal("mock/echo", Header(second, "X-Tollgate-Model"));
        Assert.Equal(firstBody, secondBody);
        Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, Sent(marker));

        var records = await host.Records(id);
        Assert.Equal(2, records.Count);
        var (miss, hit) = (records[0], records[1]);
        Assert.True(miss.Cost > 0);
        Assert.Equal(200, hit.Long("status"));
        Assert.Equal(0m, hit.Cost);
        Assert.Equal(0, hit.Long("input_tokens") + hit.Long("output_tokens") + hit.Long("cached_tokens"));
        Assert.Equal(miss.Cost, Money(hit.Long("cache_savings_e10")));
        Assert.Equal("mock/echo", hit.Text("requested_model"));
        Assert.Equal(Header(second, "X-Tollgate-Request-Id"), hit.Text("id"));
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/messages")]
    [InlineData("/v1/responses")]
    public async Task A_stored_answer_serves_both_forms_in_the_called_API(string path)
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id });
        var (streamed, plain) = (Unique, Unique);

        // A streamed answer is stored once the stream has ended, in its non-stream form: a plain request hits it.
        using var firstStream = await host.Proxy(path, key, Body(path, streamed, stream: true));
        var firstEvents = await firstStream.Content.ReadAsStringAsync();
        using var plainHit = await host.Proxy(path, key, Body(path, streamed, stream: false));
        var plainJson = JsonDocument.Parse(await plainHit.Content.ReadAsStringAsync()).RootElement;

        // A plain answer serves a streaming request as a stream of several events.
        using var firstPlain = await host.Proxy(path, key, Body(path, plain, stream: false));
        var storedJson = JsonDocument.Parse(await firstPlain.Content.ReadAsStringAsync()).RootElement;
        using var streamHit = await host.Proxy(path, key, Body(path, plain, stream: true));
        var hitEvents = await streamHit.Content.ReadAsStringAsync();

        Assert.Equal("miss", Header(firstStream, "X-Tollgate-Cache"));
        Assert.Equal("hit", Header(plainHit, "X-Tollgate-Cache"));
        Assert.Equal("hit", Header(streamHit, "X-Tollgate-Cache"));
        Assert.Equal("text/event-stream", streamHit.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, Sent(streamed));
        Assert.Equal(1, Sent(plain));
        Assert.Equal(Text(path, firstEvents), Text(path, plainJson));
        Assert.Equal(Text(path, storedJson), Text(path, hitEvents));
        Assert.True(Deltas(path, hitEvents) >= 2, hitEvents);
        Assert.Equal(TerminalEvent(path), LastEvent(hitEvents));
        var records = await host.Records(id);
        Assert.Equal([null, "exact", null, "exact"], records.Select(r => r.Text("cache_hit")));
        Assert.Equal([1L, 0L, 0L, 1L], records.Select(r => r.Long("stream")));
    }

    [Fact]
    public async Task An_interrupted_stream_is_never_stored()
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id });
        var marker = Unique;

        using (var broken = await host.Proxy("/v1/chat/completions", key, Body("/v1/chat/completions", marker, stream: true), ("x-mock-abort-after-chunks", "2")))
        {
            try
            {
                await broken.Content.ReadAsStringAsync();
            }
            catch (HttpRequestException)
            {
                // the provider broke off: the gateway ends the client's stream too
            }
        }

        using var next = await host.Proxy("/v1/chat/completions", key, Body("/v1/chat/completions", marker, stream: true));
        await next.Content.ReadAsStringAsync();

        Assert.Equal("miss", Header(next, "X-Tollgate-Cache"));
        Assert.Equal(2, Sent(marker));
    }

    [Fact]
    public async Task A_paraphrase_is_a_semantic_hit_and_a_near_miss_or_another_context_is_not()
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id, semantic = new { enabled = true, threshold = 0.85 } });
        var system = "You are the assistant of shop " + Unique + ".";
        string Ask(string question, string? otherSystem = null) =>
            JsonSerializer.Serialize(new { model = "mock/echo", max_tokens = 8, messages = new object[] { new { role = "system", content = otherSystem ?? system }, new { role = "user", content = question } } });

        using var first = await host.Proxy("/v1/chat/completions", key, Ask("What is the capital of France?"));
        var firstBody = await first.Content.ReadAsStringAsync();
        using var paraphrase = await host.Proxy("/v1/chat/completions", key, Ask("Tell me the capital city of France."));
        var paraphraseBody = await paraphrase.Content.ReadAsStringAsync();
        using var negation = await host.Proxy("/v1/chat/completions", key, Ask("What is not the capital of France?"));
        using var otherContext = await host.Proxy("/v1/chat/completions", key, Ask("Tell me the capital city of France.", "You are a pirate."));

        Assert.Equal("miss", Header(first, "X-Tollgate-Cache"));
        Assert.Equal("semantic_hit", Header(paraphrase, "X-Tollgate-Cache"));
        var similarity = double.Parse(Header(paraphrase, "X-Tollgate-Cache-Similarity")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(similarity, 0.85, 1.0);
        Assert.Equal(firstBody, paraphraseBody);
        Assert.Equal("miss", Header(negation, "X-Tollgate-Cache"));
        Assert.Equal("miss", Header(otherContext, "X-Tollgate-Cache"));
        var records = await host.Records(id);
        Assert.Equal([null, "semantic", null, null], records.Select(r => r.Text("cache_hit")));
        Assert.Equal(records[0].Cost, Money(records[1].Long("cache_savings_e10")));
    }

    [Fact]
    public async Task A_request_ending_in_a_tool_result_is_never_matched_semantically()
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id, exact = false, semantic = new { enabled = true, threshold = 0.5 } });
        var marker = Unique;
        string WithToolResult(string result) => JsonSerializer.Serialize(new
        {
            model = "mock/echo",
            max_tokens = 8,
            messages = new object[]
            {
                new { role = "user", content = "Weather in Paris? " + marker },
                new { role = "assistant", content = (string?)null, tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "weather", arguments = "{}" } } } },
                new { role = "tool", tool_call_id = "call_1", content = result },
            },
        });

        using var first = await host.Proxy("/v1/chat/completions", key, WithToolResult("sunny, 21 C"));
        using var second = await host.Proxy("/v1/chat/completions", key, WithToolResult("rain, 12 C"));

        Assert.Equal("bypass", Header(first, "X-Tollgate-Cache"));
        Assert.Equal("bypass", Header(second, "X-Tollgate-Cache"));
        Assert.Equal(2, Sent(marker));
    }

    [PostgresFact]
    public async Task Two_replicas_share_exact_and_semantic_entries_through_redis()
    {
        var (replica, url) = await host.StartReplicaAsync();
        await using (replica)
        {
            var (id, key) = await host.CreateKey();
            await Policy(new { scope = "key", subject = id, semantic = new { enabled = true, threshold = 0.85 } });
            var marker = Unique;
            string Ask(string question) =>
                JsonSerializer.Serialize(new { model = "mock/echo", max_tokens = 8, messages = new object[] { new { role = "system", content = "Shop " + marker }, new { role = "user", content = question } } });

            async Task<string?> CacheOn(string baseUrl, string body)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + "/v1/chat/completions") { Content = new StringContent(body) };
                request.Headers.Authorization = new("Bearer", key);
                using var response = await host.Http.SendAsync(request);
                Assert.Equal(200, (int)response.StatusCode);
                return Header(response, "X-Tollgate-Cache");
            }

            // The replica's semantic index subscribes to announcements when it starts (not awaited: give it time).
            await Task.Delay(500);
            Assert.Equal("miss", await CacheOn(host.BaseUrl, Ask("What is the capital of France?")));
            Assert.Equal("hit", await CacheOn(url, Ask("What is the capital of France?")));
            Assert.Equal("semantic_hit", await CacheOn(url, Ask("Tell me the capital city of France.")));
            Assert.Equal(1, Sent(marker));
            await replica.StopAsync();
        }
    }

    [Fact]
    public async Task Two_keys_share_entries_only_when_a_policy_puts_them_in_one_namespace()
    {
        var team = "team-" + Unique;
        var (idA, keyA) = await host.CreateKey(new { name = "a-" + Unique, owner = new { team } });
        var (idB, keyB) = await host.CreateKey(new { name = "b-" + Unique, owner = new { team } });
        var policy = await Policy(new { scope = "team", subject = team });
        var marker = Unique;

        using (var a = await host.Proxy("/v1/chat/completions", keyA, Chat(marker)))
        using (var b = await host.Proxy("/v1/chat/completions", keyB, Chat(marker)))
        {
            // share "key" (the default): the same request from another key of the team is its own entry.
            Assert.Equal("miss", Header(a, "X-Tollgate-Cache"));
            Assert.Equal("miss", Header(b, "X-Tollgate-Cache"));
        }

        Assert.Equal(2, Sent(marker));
        await host.AdminJson(HttpMethod.Patch, "/admin/cache-policies/" + policy, new { share = "team" });
        var shared = Unique;
        using (var a = await host.Proxy("/v1/chat/completions", keyA, Chat(shared)))
        using (var b = await host.Proxy("/v1/chat/completions", keyB, Chat(shared)))
        {
            Assert.Equal("miss", Header(a, "X-Tollgate-Cache"));
            Assert.Equal("hit", Header(b, "X-Tollgate-Cache"));
        }

        Assert.Equal(1, Sent(shared));
        Assert.Single(await host.Records(idB), r => r.Long("cache_savings_e10") > 0);
        Assert.DoesNotContain(await host.Records(idA), r => r.Long("cache_savings_e10") > 0);
    }

    [Fact]
    public async Task A_project_claimed_by_header_never_joins_a_globally_shared_project_namespace()
    {
        var project = "project-" + Unique;
        var (_, member) = await host.CreateKey(new { name = "member-" + Unique, owner = new { project } });
        var (_, outsider) = await host.CreateKey(); // no project of its own: X-Project-ID may attribute one (docs/api.md)
        var policy = await Policy(new { scope = "project", subject = project, share = "global" });
        var marker = Unique;

        using (var stored = await host.Proxy("/v1/chat/completions", member, Chat(marker)))
        using (var claimed = await host.Proxy("/v1/chat/completions", outsider, Chat(marker), ("X-Project-ID", project)))
        {
            Assert.Equal("miss", Header(stored, "X-Tollgate-Cache"));
            Assert.Null(Header(claimed, "X-Tollgate-Cache")); // not covered: the global namespace is for the project's own keys
        }

        Assert.Equal(2, Sent(marker));

        // Sharing within the caller's own key or team is safe, so a claimed project is covered then (in its key's namespace).
        await host.AdminJson(HttpMethod.Patch, "/admin/cache-policies/" + policy, new { share = "key" });
        var own = Unique;
        using (var first = await host.Proxy("/v1/chat/completions", outsider, Chat(own), ("X-Project-ID", project)))
        using (var again = await host.Proxy("/v1/chat/completions", outsider, Chat(own), ("X-Project-ID", project)))
        using (var other = await host.Proxy("/v1/chat/completions", member, Chat(own)))
        {
            Assert.Equal("miss", Header(first, "X-Tollgate-Cache"));
            Assert.Equal("hit", Header(again, "X-Tollgate-Cache"));
            Assert.Equal("miss", Header(other, "X-Tollgate-Cache"));
        }
    }

    [Fact]
    public async Task Without_a_policy_nothing_is_cached_and_no_cache_header_is_sent()
    {
        var (_, key) = await host.CreateKey();
        var marker = Unique;

        using var first = await host.Proxy("/v1/chat/completions", key, Chat(marker));
        using var second = await host.Proxy("/v1/chat/completions", key, Chat(marker));

        Assert.Null(Header(first, "X-Tollgate-Cache"));
        Assert.Null(Header(second, "X-Tollgate-Cache"));
        Assert.Equal(2, Sent(marker));
    }

    [Fact]
    public async Task Request_controls_skip_the_lookup_the_store_or_old_entries()
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id });
        var marker = Unique;

        // no-store and X-Tollgate-Cache: off neither look up nor store.
        using (var r = await host.Proxy("/v1/chat/completions", key, Chat(marker), ("Cache-Control", "no-store")))
        {
            Assert.Equal("bypass", Header(r, "X-Tollgate-Cache"));
        }

        using (var r = await host.Proxy("/v1/chat/completions", key, Chat(marker), ("X-Tollgate-Cache", "off")))
        {
            Assert.Equal("bypass", Header(r, "X-Tollgate-Cache"));
        }

        // no-cache skips the lookup but stores the answer: the next plain call hits.
        using (var r = await host.Proxy("/v1/chat/completions", key, Chat(marker), ("Cache-Control", "no-cache")))
        {
            Assert.Equal("bypass", Header(r, "X-Tollgate-Cache"));
        }

        using (var r = await host.Proxy("/v1/chat/completions", key, Chat(marker)))
        {
            Assert.Equal("hit", Header(r, "X-Tollgate-Cache"));
        }

        Assert.Equal(3, Sent(marker));

        // max-age: an entry older than asked is a miss (and the fresh answer replaces it).
        await Task.Delay(1100);
        using (var r = await host.Proxy("/v1/chat/completions", key, Chat(marker), ("Cache-Control", "max-age=0")))
        {
            Assert.Equal("miss", Header(r, "X-Tollgate-Cache"));
        }

        using (var r = await host.Proxy("/v1/chat/completions", key, Chat(marker), ("Cache-Control", "max-age=60")))
        {
            Assert.Equal("hit", Header(r, "X-Tollgate-Cache"));
        }

        Assert.Equal(4, Sent(marker));
    }

    [Fact]
    public async Task Requests_for_several_choices_are_never_cached()
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id });
        var marker = Unique;
        var body = Chat(marker, ""","n":2""");

        using var first = await host.Proxy("/v1/chat/completions", key, body);
        using var second = await host.Proxy("/v1/chat/completions", key, body);

        Assert.Equal("bypass", Header(second, "X-Tollgate-Cache"));
        Assert.Equal(2, Sent(marker));
    }

    [Fact]
    public async Task A_hit_counts_for_the_rpm_limit_and_for_nothing_else()
    {
        var (id, key) = await host.CreateKey(new { name = "rpm-" + Unique, limits = new { rpm = 2 } });
        await Policy(new { scope = "key", subject = id });
        var marker = Unique;

        using var miss = await host.Proxy("/v1/chat/completions", key, Chat(marker));
        using var hit = await host.Proxy("/v1/chat/completions", key, Chat(marker));
        using var refused = await host.Proxy("/v1/chat/completions", key, Chat(marker));

        Assert.Equal(200, (int)hit.StatusCode);
        Assert.Equal("hit", Header(hit, "X-Tollgate-Cache"));
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.Contains("rate_limit_exceeded", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, (await host.Records(id)).Count);
    }

    [Fact]
    public async Task Messages_responses_and_embeddings_are_cached_in_their_own_API()
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id });
        var marker = Unique;
        (string Path, string Body)[] calls =
        [
            ("/v1/messages", $$"""{"model":"mock/echo","max_tokens":8,"messages":[{"role":"user","content":"Say {{marker}}"}]}"""),
            ("/v1/responses", $$"""{"model":"mock/echo","input":"Say {{marker}}"}"""),
        ];

        foreach (var (path, body) in calls)
        {
            using var first = await host.Proxy(path, key, body);
            using var second = await host.Proxy(path, key, body);
            Assert.Equal(200, (int)first.StatusCode);
            Assert.Equal("hit", Header(second, "X-Tollgate-Cache"));
            Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        }

        Assert.Equal(2, Sent(marker));
    }

    [Fact]
    public async Task Embeddings_are_cached_per_input_and_only_new_inputs_go_upstream()
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id });
        var m = Unique;
        string Body(params string[] inputs) => JsonSerializer.Serialize(new { model = "mock/embed", input = inputs });

        using var first = await host.Proxy("/v1/embeddings", key, Body($"{m} one", $"{m} two"));
        var firstText = await first.Content.ReadAsStringAsync();
        Assert.True(first.IsSuccessStatusCode, firstText);
        var firstData = JsonDocument.Parse(firstText).RootElement.GetProperty("data");
        using var mixed = await host.Proxy("/v1/embeddings", key, Body($"{m} three", $"{m} two", $"{m} four", $"{m} one"), ("x-mock-prompt-tokens", "10"));
        var mixedAnswer = JsonDocument.Parse(await mixed.Content.ReadAsStringAsync()).RootElement;
        using var all = await host.Proxy("/v1/embeddings", key, Body($"{m} four", $"{m} one"));
        var allAnswer = JsonDocument.Parse(await all.Content.ReadAsStringAsync()).RootElement;

        // Only "three" and "four" were sent the second time, in that order, as an array.
        var sent = host.Mock.Log.Requests.Select(r => System.Text.Encoding.UTF8.GetString(r.Body)).Where(b => b.Contains(m, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, sent.Count);
        var secondInputs = JsonDocument.Parse(sent[1]).RootElement.GetProperty("input").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal([$"{m} three", $"{m} four"], secondInputs);

        // Every input in its original order and index, the cached ones with their earlier vectors.
        var data = mixedAnswer.GetProperty("data");
        Assert.Equal([0, 1, 2, 3], data.EnumerateArray().Select(d => d.GetProperty("index").GetInt32()));
        Assert.Equal(firstData[1].GetProperty("embedding").GetRawText(), data[1].GetProperty("embedding").GetRawText());
        Assert.Equal(firstData[0].GetProperty("embedding").GetRawText(), data[3].GetProperty("embedding").GetRawText());
        Assert.NotEqual(data[0].GetProperty("embedding").GetRawText(), data[2].GetProperty("embedding").GetRawText());
        Assert.Equal(10, mixedAnswer.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
        Assert.Equal("miss", Header(mixed, "X-Tollgate-Cache"));

        // All found: a hit, nothing sent, no tokens.
        Assert.Equal("hit", Header(all, "X-Tollgate-Cache"));
        Assert.Equal(data[2].GetProperty("embedding").GetRawText(), allAnswer.GetProperty("data")[0].GetProperty("embedding").GetRawText());
        Assert.Equal(0, allAnswer.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());

        var records = await host.Records(id);
        Assert.Equal(3, records.Count);
        Assert.Equal(10, records[1].Long("input_tokens"));
        Assert.True(records[1].Long("cache_savings_e10") > 0);
        Assert.Equal(0, records[2].Long("input_tokens"));
        Assert.Equal(0m, records[2].Cost);
        Assert.True(records[2].Long("cache_savings_e10") > 0);
    }

    [Fact]
    public async Task Embeddings_through_a_route_send_only_the_inputs_not_cached()
    {
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id });
        var route = "embed-" + Unique;
        await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name = route, targets = new[] { new { model = "mock/embed" } } });
        var m = Unique;
        string Body(params string[] inputs) => JsonSerializer.Serialize(new { model = route, input = inputs });

        using var direct = await host.Proxy("/v1/embeddings", key, JsonSerializer.Serialize(new { model = "mock/embed", input = new[] { $"{m} x" } }));
        using var first = await host.Proxy("/v1/embeddings", key, Body($"{m} a", $"{m} b"));
        var firstData = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("data");
        using var second = await host.Proxy("/v1/embeddings", key, Body($"{m} c", $"{m} b"));
        var secondData = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("data");

        var sent = host.Mock.Log.Requests.Select(r => System.Text.Encoding.UTF8.GetString(r.Body)).Where(b => b.Contains(m, StringComparison.Ordinal)).ToList();
        Assert.Equal(3, sent.Count);
        Assert.Equal([$"{m} c"], JsonDocument.Parse(sent[2]).RootElement.GetProperty("input").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(firstData[1].GetProperty("embedding").GetRawText(), secondData[1].GetProperty("embedding").GetRawText());
        Assert.NotEqual(firstData[0].GetProperty("embedding").GetRawText(), secondData[0].GetProperty("embedding").GetRawText());
        Assert.Equal([0, 1], secondData.EnumerateArray().Select(d => d.GetProperty("index").GetInt32()));
        var records = await host.Records(id);
        Assert.Equal(3, records.Count);
        Assert.Equal(0, records[1].Long("cache_savings_e10"));
        Assert.True(records[2].Long("cache_savings_e10") > 0, "the cached input is the routed call's saving");
    }

    [Fact]
    public async Task Two_global_policies_keep_their_entries_apart()
    {
        var (teamA, teamB) = ("ga-" + Unique, "gb-" + Unique);
        var (_, keyA) = await host.CreateKey(new { name = "a-" + Unique, owner = new { team = teamA } });
        var (_, keyB) = await host.CreateKey(new { name = "b-" + Unique, owner = new { team = teamB } });
        var (_, keyA2) = await host.CreateKey(new { name = "a2-" + Unique, owner = new { team = teamA } });
        await Policy(new { scope = "team", subject = teamA, share = "global" });
        await Policy(new { scope = "team", subject = teamB, share = "global" });
        var marker = Unique;

        using var a = await host.Proxy("/v1/chat/completions", keyA, Chat(marker));
        using var b = await host.Proxy("/v1/chat/completions", keyB, Chat(marker));
        using var a2 = await host.Proxy("/v1/chat/completions", keyA2, Chat(marker));

        Assert.Equal("miss", Header(a, "X-Tollgate-Cache"));
        Assert.Equal("miss", Header(b, "X-Tollgate-Cache"));
        Assert.Equal("hit", Header(a2, "X-Tollgate-Cache"));
        Assert.Equal(2, Sent(marker));
    }

    [Fact]
    public async Task Purging_a_namespace_removes_its_entries_only()
    {
        var (idA, keyA) = await host.CreateKey();
        var (idB, keyB) = await host.CreateKey();
        await Policy(new { scope = "key", subject = idA });
        await Policy(new { scope = "key", subject = idB });
        var marker = Unique;
        (await host.Proxy("/v1/chat/completions", keyA, Chat(marker))).Dispose();
        (await host.Proxy("/v1/chat/completions", keyB, Chat(marker))).Dispose();

        var purged = await host.AdminJson(HttpMethod.Delete, $"/admin/cache?scope=key&subject={idA}");

        Assert.Equal(1, purged.GetProperty("purged").GetInt64());
        using (var a = await host.Proxy("/v1/chat/completions", keyA, Chat(marker)))
        {
            Assert.Equal("miss", Header(a, "X-Tollgate-Cache"));
        }

        using (var b = await host.Proxy("/v1/chat/completions", keyB, Chat(marker)))
        {
            Assert.Equal("hit", Header(b, "X-Tollgate-Cache"));
        }
    }

    [Fact]
    public async Task Cache_policies_are_validated_listed_edited_audited_and_deleted()
    {
        var (id, _) = await host.CreateKey();
        using (var bad = await host.Admin(HttpMethod.Post, "/admin/cache-policies", new { scope = "key" }))
        {
            Assert.Equal(400, (int)bad.StatusCode);
            Assert.Contains("subject", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var bad = await host.Admin(HttpMethod.Post, "/admin/cache-policies", new { scope = "key", subject = id, ttl_seconds = 0 }))
        {
            Assert.Equal(400, (int)bad.StatusCode);
            Assert.Contains("ttl_seconds", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var bad = await host.Admin(HttpMethod.Post, "/admin/cache-policies", new { scope = "key", subject = id, share = "planet" }))
        {
            Assert.Equal(400, (int)bad.StatusCode);
        }

        var created = await host.AdminJson(HttpMethod.Post, "/admin/cache-policies", new { scope = "key", subject = id, ttl_seconds = 60, models = new[] { "mock/*" }, prompt_caching = new { openai_cache_key = true } });
        var policyId = created.GetProperty("id").GetString()!;
        Assert.StartsWith("cp_", policyId, StringComparison.Ordinal);
        Assert.True(created.GetProperty("exact").GetBoolean());
        Assert.Equal("key", created.GetProperty("share").GetString());
        Assert.True(created.GetProperty("embeddings").GetBoolean());
        Assert.Equal(0.95, created.GetProperty("semantic").GetProperty("threshold").GetDouble());
        Assert.True(created.GetProperty("prompt_caching").GetProperty("openai_cache_key").GetBoolean());

        var edited = await host.AdminJson(HttpMethod.Patch, "/admin/cache-policies/" + policyId, new { ttl_seconds = 120 });
        Assert.Equal(120, edited.GetProperty("ttl_seconds").GetInt32());
        Assert.Equal(id, edited.GetProperty("subject").GetString());
        var listed = await host.AdminJson(HttpMethod.Get, "/admin/cache-policies");
        Assert.Contains(listed.EnumerateArray(), p => p.GetProperty("id").GetString() == policyId);

        using (var deleted = await host.Admin(HttpMethod.Delete, "/admin/cache-policies/" + policyId))
        {
            Assert.Equal(204, (int)deleted.StatusCode);
        }

        var audit = await host.AdminJson(HttpMethod.Get, "/admin/audit");
        Assert.Contains(audit.EnumerateArray(), a => a.ToString().Contains(policyId, StringComparison.Ordinal) && a.ToString().Contains("PATCH", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Anthropic_auto_marks_the_last_tool_and_system_block_once_the_prefix_is_long_enough()
    {
        await Provider("cache-anthropic", "anthropic");
        var (id, key) = await host.CreateKey();
        await Policy(new { scope = "key", subject = id, exact = false, prompt_caching = new { anthropic_auto = true } });
        var longSystem = string.Join(' ', Enumerable.Repeat("You answer questions about the billing rules of the company in detail.", 120));
        var tools = """[{"name":"lookup","description":"Looks a customer up.","input_schema":{"type":"object","properties":{"id":{"type":"string"}}}},{"name":"refund","description":"Refunds an order.","input_schema":{"type":"object","properties":{"order":{"type":"string"}}}}]""";
        var marker = Unique;

        using (await host.Proxy("/v1/messages", key, $$"""{"model":"cache-anthropic/claude-sonnet-4-5","max_tokens":8,"system":"{{longSystem}}","tools":{{tools}},"messages":[{"role":"user","content":"{{marker}} long"}]}""")) { }
        var sentLong = JsonDocument.Parse(Last(marker + " long")).RootElement;
        using (await host.Proxy("/v1/messages", key, $$"""{"model":"cache-anthropic/claude-sonnet-4-5","max_tokens":8,"system":"Be brief.","messages":[{"role":"user","content":"{{marker}} short"}]}""")) { }
        var sentShort = Last(marker + " short");
        using (await host.Proxy("/v1/messages", key, $$$"""{"model":"cache-anthropic/claude-sonnet-4-5","max_tokens":8,"system":[{"type":"text","text":"{{{longSystem}}}","cache_control":{"type":"ephemeral","ttl":"1h"}}],"messages":[{"role":"user","content":"{{{marker}}} own"}]}""")) { }
        var sentOwn = JsonDocument.Parse(Last(marker + " own")).RootElement;

        // Long system prompt, short tools: the system block (the whole prefix) is marked, the tools alone are too short.
        var system = sentLong.GetProperty("system");
        Assert.Equal(JsonValueKind.Array, system.ValueKind);
        Assert.Equal("ephemeral", system[0].GetProperty("cache_control").GetProperty("type").GetString());
        Assert.Equal(longSystem, system[0].GetProperty("text").GetString());
        Assert.False(sentLong.GetProperty("tools")[1].TryGetProperty("cache_control", out _));
        // Below the minimum cacheable length nothing is marked; a request that marks its own prefix is left as it is.
        Assert.DoesNotContain("cache_control", sentShort, StringComparison.Ordinal);
        Assert.Equal("1h", sentOwn.GetProperty("system")[0].GetProperty("cache_control").GetProperty("ttl").GetString());
        Assert.Null(await CacheHeader(key, marker));
    }

    [Fact]
    public async Task Openai_cache_key_sets_a_prompt_cache_key_per_namespace_unless_the_request_has_one()
    {
        await Provider("cache-openai", "openai");
        var (idA, keyA) = await host.CreateKey();
        var (idB, keyB) = await host.CreateKey();
        await Policy(new { scope = "key", subject = idA, exact = false, prompt_caching = new { openai_cache_key = true } });
        await Policy(new { scope = "key", subject = idB, exact = false, prompt_caching = new { openai_cache_key = true } });
        var marker = Unique;

        using (await host.Proxy("/v1/chat/completions", keyA, $$"""{"model":"cache-openai/gpt-4o-mini","messages":[{"role":"user","content":"{{marker}} a"}]}""")) { }
        using (await host.Proxy("/v1/chat/completions", keyA, $$"""{"model":"cache-openai/gpt-4o-mini","messages":[{"role":"user","content":"{{marker}} a2"}]}""")) { }
        using (await host.Proxy("/v1/chat/completions", keyB, $$"""{"model":"cache-openai/gpt-4o-mini","messages":[{"role":"user","content":"{{marker}} b"}]}""")) { }
        using (await host.Proxy("/v1/chat/completions", keyB, $$"""{"model":"cache-openai/gpt-4o-mini","prompt_cache_key":"mine","messages":[{"role":"user","content":"{{marker}} own"}]}""")) { }

        string KeyOf(string text) => JsonDocument.Parse(Last(text)).RootElement.GetProperty("prompt_cache_key").GetString()!;
        Assert.StartsWith("tollgate-", KeyOf(marker + " a"), StringComparison.Ordinal);
        Assert.Equal(KeyOf(marker + " a"), KeyOf(marker + " a2"));
        Assert.NotEqual(KeyOf(marker + " a"), KeyOf(marker + " b"));
        Assert.DoesNotContain(idA, KeyOf(marker + " a"), StringComparison.Ordinal);
        Assert.Equal("mine", KeyOf(marker + " own"));
    }

    private async Task Provider(string name, string kind)
    {
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name, kind, base_url = host.Mock.BaseUrl + "/v1", api_key = "k" })).EnsureSuccessStatusCode();
        (await host.Admin(HttpMethod.Put, $"/admin/prices/{name}/*", new { input_per_mtok = 1m, cached_input_per_mtok = 0.1m, output_per_mtok = 2m })).EnsureSuccessStatusCode();
    }

    private async Task<string?> CacheHeader(string key, string marker)
    {
        using var response = await host.Proxy("/v1/chat/completions", key, Chat(marker));
        return Header(response, "X-Tollgate-Cache");
    }

    /// <summary>The body of the last request carrying the text that reached the mock provider.</summary>
    private string Last(string text) => host.Mock.Log.Requests.Select(r => System.Text.Encoding.UTF8.GetString(r.Body)).Last(b => b.Contains(text, StringComparison.Ordinal));

    private static string Body(string path, string marker, bool stream) => path switch
    {
        "/v1/messages" => $$"""{"model":"mock/echo","max_tokens":8,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say {{marker}} please"}]}""",
        "/v1/responses" => $$"""{"model":"mock/echo","stream":{{(stream ? "true" : "false")}},"input":"Say {{marker}} please"}""",
        _ => $$"""{"model":"mock/echo","max_tokens":8,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say {{marker}} please"}]}""",
    };

    /// <summary>The answer's text from a JSON body.</summary>
    private static string Text(string path, JsonElement json) => path switch
    {
        "/v1/messages" => string.Concat(json.GetProperty("content").EnumerateArray().Select(b => b.GetProperty("text").GetString())),
        "/v1/responses" => string.Concat(json.GetProperty("output").EnumerateArray().Where(o => o.GetProperty("type").GetString() == "message")
            .SelectMany(o => o.GetProperty("content").EnumerateArray()).Select(c => c.GetProperty("text").GetString())),
        _ => json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!,
    };

    /// <summary>The answer's text from a stream: its text deltas joined.</summary>
    private static string Text(string path, string events) => string.Concat(Data(events).Select(d => path switch
    {
        "/v1/messages" => d.GetProperty("type").GetString() == "content_block_delta" && d.GetProperty("delta").TryGetProperty("text", out var t) ? t.GetString() : "",
        "/v1/responses" => d.GetProperty("type").GetString() == "response.output_text.delta" ? d.GetProperty("delta").GetString() : "",
        _ => d.GetProperty("choices") is { ValueKind: JsonValueKind.Array } c && c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : "",
    }));

    private static int Deltas(string path, string events) => Data(events).Count(d => path switch
    {
        "/v1/messages" => d.GetProperty("type").GetString() == "content_block_delta",
        "/v1/responses" => d.GetProperty("type").GetString() == "response.output_text.delta",
        _ => d.GetProperty("choices") is { ValueKind: JsonValueKind.Array } c && c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 },
    });

    private static string TerminalEvent(string path) => path switch
    {
        "/v1/messages" => "message_stop",
        "/v1/responses" => "response.completed",
        _ => "[DONE]",
    };

    private static string LastEvent(string events)
    {
        var data = events.Split('\n').Last(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        return data == "[DONE]" ? data : JsonDocument.Parse(data).RootElement.GetProperty("type").GetString()!;
    }

    private static IEnumerable<JsonElement> Data(string events) => events.Split('\n')
        .Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l != "data: [DONE]")
        .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement);

    private static string Chat(string marker, string extra = "") =>
        $$"""{"model":"mock/echo","max_tokens":8,"messages":[{"role":"user","content":"Say {{marker}}"}]{{extra}}}""";

    private async Task<string> Policy(object body) =>
        (await host.AdminJson(HttpMethod.Post, "/admin/cache-policies", body)).GetProperty("id").GetString()!;

    /// <summary>How many requests carrying the marker reached the mock provider.</summary>
    private int Sent(string marker) => host.Mock.Log.Requests.Count(r => System.Text.Encoding.UTF8.GetString(r.Body).Contains(marker, StringComparison.Ordinal));

    private static string Unique => Guid.NewGuid().ToString("N")[..8];

    private static decimal Money(long e10) => e10 / 10_000_000_000m;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First() : null;
}
