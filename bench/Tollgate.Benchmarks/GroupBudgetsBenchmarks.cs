using System.Net.Http.Json;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Storage;

namespace Tollgate.Benchmarks;

/// <summary>
/// Reserve and settle for one key while other teams have <see cref="Budgets"/> group budgets defined: the work per call
/// must not grow with how many budgets exist (issue 13: 10 000 budgets within 2 × of 10).
/// </summary>
public class GroupBudgetsBenchmarks
{
    private const string MasterKey = "tg-bench-master";

    private static readonly byte[] ChatBody = Encoding.UTF8.GetBytes(
        """{"model":"mock/echo","max_tokens":16,"messages":[{"role":"user","content":"How much does this call cost?"}]}""");

    private readonly Attribution _attribution = default(Attribution) with { Team = "bench" };

    // Set once by SetupAsync.
    private (WebApplication App, DirectoryInfo Dir) _host;
    private (VirtualKey Key, Provider Provider, Governor Governor, UsageRecord Settled) _call;

    [Params(10, 10_000)]
    public int Budgets { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-bench-budgets-");
        var app = await TollgateApp.BuildAsync(["--data-dir", dir.FullName, "--urls", "http://127.0.0.1:0"], s => s.MasterKey = MasterKey);
        _host = (app, dir);
        await app.StartAsync();
        using var admin = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", MasterKey);
        foreach (var (path, body) in new (string, object)[]
        {
            ("/admin/providers", new { name = "mock", kind = "openai_compatible", base_url = "http://127.0.0.1:9/v1" }),
            ("/admin/budgets", new { scope = "team", subject = "bench", period = "day", hard = 1_000_000 }),
        })
        {
            (await admin.PostAsJsonAsync(path, body)).EnsureSuccessStatusCode();
        }

        (await admin.PutAsJsonAsync("/admin/prices/mock/echo", new { input_per_mtok = 1, output_per_mtok = 2 })).EnsureSuccessStatusCode();
        var services = app.Services;
        var (key, _) = services.GetRequiredService<KeyService>().Create("bench", VirtualKey.AppRole, new KeyOwner(Team: "bench"), [], null);

        // Other teams' budgets, written in one transaction and loaded once (the admin API reloads after each one).
        var db = services.GetRequiredService<Database>();
        using (var connection = db.Open())
        using (var transaction = connection.BeginTransaction())
        {
            for (var i = 1; i < Budgets; i++)
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO budgets (id, scope, subject, spec, created_at) VALUES (@id, 'team', @subject, @spec, 0)";
                Database.AddParameters(command, ("@id", "bud_other_" + i), ("@subject", "team-" + i), ("@spec", """{"period":"day","hard":1000}"""));
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        var store = services.GetRequiredService<GovernanceStore>();
        store.Load();
        if (store.Current.Budgets.Count != Budgets)
        {
            throw new InvalidOperationException($"Expected {Budgets} budgets, found {store.Current.Budgets.Count}.");
        }

        var provider = services.GetRequiredService<ProviderRegistry>().Find("mock") ?? throw new InvalidOperationException("No provider.");
        // What the mock's echo call costs; the record's other fields do not reach the counters.
        var settled = new UsageRecord { Id = "bench", Timestamp = DateTimeOffset.UnixEpoch, Operation = "chat", Provider = "mock", RequestedModel = "mock/echo" };
        (settled.InputTokens, settled.OutputTokens, settled.Cost) = (12, 8, 0.000028m);
        _call = (key, provider, services.GetRequiredService<Governor>(), settled);
        if ((await _call.Governor.ReserveAsync(key, _attribution, provider, "mock/echo", "echo", ChatBody, 16)).Lease is not { } lease || ReferenceEquals(lease, Reservation.None))
        {
            throw new InvalidOperationException("The team budget did not apply.");
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _host.App.StopAsync();
        await _host.App.DisposeAsync();
        _host.Dir.Delete(recursive: true);
    }

    /// <summary>One call's governance: its team's budget among <see cref="Budgets"/>, reserved then settled.</summary>
    [Benchmark]
    public async Task ReserveAndSettle()
    {
        var (lease, _, _) = await _call.Governor.ReserveAsync(_call.Key, _attribution, _call.Provider, "mock/echo", "echo", ChatBody, 16);
        await lease!.SettleAsync(_call.Settled);
    }
}
