using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Alerts;

/// <summary>One alert as stored and delivered (docs/api.md "Alerts": payload).</summary>
internal sealed record Alert(string Id, string Type, DateTimeOffset CreatedAt, JsonObject Data);

internal sealed record Delivery(string AlertId, string Status, int Attempts, int? LastStatus, DateTimeOffset UpdatedAt);

internal sealed record Webhook(string Id, string Url, IReadOnlyList<string> Events, string Secret, DateTimeOffset CreatedAt);

/// <summary>
/// Raising an alert never blocks a request: it goes to a channel; this background service stores it once (a
/// de-duplication key makes "once per period" hold across restarts) and POSTs it to every subscribed webhook with an
/// HMAC-SHA256 signature, retrying with back-off.
/// </summary>
internal sealed partial class AlertService : BackgroundService
{
    public static readonly string[] EventTypes = ["budget.threshold", "budget.exceeded", "quota.exhausted", "circuit.open", "usage.spike"];

    private readonly Channel<(Alert Alert, string DedupeKey)> _channel = Channel.CreateBounded<(Alert, string)>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly Database _db;
    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _time;
    private readonly TimeSpan[] _retryDelays;
    private readonly ILogger<AlertService> _log;
    private readonly RaisedAlerts _raised;
    private readonly List<Task> _deliveries = [];

    public AlertService(Database db, IHttpClientFactory http, TimeProvider time, GatewaySettings settings, ILogger<AlertService> log)
    {
        _db = db;
        _http = http;
        _time = time;
        _log = log;
        _retryDelays = settings.WebhookRetryDelays;
        _raised = new RaisedAlerts(RaisedCapacity);
    }

    /// <summary>De-duplication keys remembered in memory at most; the database's unique key covers any forgotten early.</summary>
    internal const int RaisedCapacity = 100_000;

    /// <summary>How many de-duplication keys are remembered now.</summary>
    internal int RaisedCount => _raised.Count;

    public const string HttpClientName = "webhooks";

    /// <summary>Raises an alert unless one with the same de-duplication key was raised before.</summary>
    /// <param name="forgetAfter">When the key can no longer recur (the end of the period it embeds): remembering it longer
    /// would only hold memory. Before then it is kept, so a repeat costs neither a channel slot nor a database write.</param>
    public void Raise(string type, string dedupeKey, JsonObject data, DateTimeOffset forgetAfter)
    {
        if (!_raised.TryAdd(dedupeKey, forgetAfter, _time.GetUtcNow()))
        {
            return;
        }

        _channel.Writer.TryWrite((new Alert("alert_" + Guid.CreateVersion7().ToString("N"), type, _time.GetUtcNow(), data), dedupeKey));
    }

    public IReadOnlyList<Alert> History(DateTimeOffset from, DateTimeOffset to, string? type, Admin.Page page)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, type, created_at, data FROM alerts WHERE created_at >= @from AND created_at < @to AND (CAST(@type AS TEXT) IS NULL OR type = @type) ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset";
        Database.AddParameters(command, ("@limit", page.Limit), ("@offset", page.Offset));
        Database.AddParameters(command, ("@from", from.ToUnixTimeMilliseconds()));
        Database.AddParameters(command, ("@to", to.ToUnixTimeMilliseconds()));
        Database.AddParameters(command, ("@type", (object?)type ?? DBNull.Value));
        using var r = command.ExecuteReader();
        var alerts = new List<Alert>();
        while (r.Read())
        {
            alerts.Add(new Alert(r.GetString(0), r.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), JsonNode.Parse(r.GetString(3))!.AsObject()));
        }

        return alerts;
    }

    public Webhook AddWebhook(string url, IReadOnlyList<string> events, string? secret)
    {
        var hook = new Webhook(KeyHash.NewId("wh_"), url, events, secret ?? "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)), _time.GetUtcNow());
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO webhooks (id, url, events, secret, created_at) VALUES (@id, @url, @events, @secret, @created)";
        Database.AddParameters(command, ("@id", hook.Id), ("@url", hook.Url), ("@events", JsonSerializer.Serialize(hook.Events)), ("@secret", hook.Secret), ("@created", hook.CreatedAt.ToUnixTimeMilliseconds()));
        command.ExecuteNonQuery();
        return hook;
    }

    public IReadOnlyList<Webhook> Webhooks()
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, url, events, secret, created_at FROM webhooks ORDER BY created_at, id";
        using var r = command.ExecuteReader();
        var hooks = new List<Webhook>();
        while (r.Read())
        {
            hooks.Add(new Webhook(r.GetString(0), r.GetString(1), JsonSerializer.Deserialize<string[]>(r.GetString(2)) ?? [], r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4))));
        }

        return hooks;
    }

    public bool DeleteWebhook(string id)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM webhooks WHERE id = @id";
        Database.AddParameters(command, ("@id", id));
        return command.ExecuteNonQuery() > 0;
    }

    /// <summary>The signature header value: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</c>.</summary>
    public static string Sign(string secret, long timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + body));
        return "t=" + timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",v1=" + Convert.ToHexStringLower(mac);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (alert, dedupeKey) in _channel.Reader.ReadAllAsync(stoppingToken))
            {
                if (!Store(alert, dedupeKey))
                {
                    continue;
                }

                var body = Serialize(alert);
                foreach (var hook in Webhooks().Where(h => h.Events.Count == 0 || h.Events.Contains(alert.Type)))
                {
                    lock (_deliveries)
                    {
                        _deliveries.RemoveAll(t => t.IsCompleted);
                        _deliveries.Add(DeliverAsync(hook, alert, body, stoppingToken));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>False when an alert with this de-duplication key is already stored (raised before a restart).</summary>
    private bool Store(Alert alert, string dedupeKey)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO alerts (id, type, created_at, data, dedupe_key) VALUES (@id, @type, @created, @data, @dedupe) ON CONFLICT DO NOTHING";
        Database.AddParameters(command, ("@id", alert.Id), ("@type", alert.Type), ("@created", alert.CreatedAt.ToUnixTimeMilliseconds()), ("@data", alert.Data.ToJsonString(StoreJson.Options)), ("@dedupe", dedupeKey));
        return command.ExecuteNonQuery() > 0;
    }

    public static string Serialize(Alert alert) => new JsonObject
    {
        ["id"] = alert.Id,
        ["type"] = alert.Type,
        ["created_at"] = alert.CreatedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["data"] = alert.Data.DeepClone(),
    }.ToJsonString(StoreJson.Options); // the readable encoder: a webhook body reads +00:00, not \u002B00:00

    /// <summary>Delivery attempts of one webhook, newest first: <c>pending</c>, <c>delivered</c> or <c>failed</c> (after every retry).</summary>
    public IReadOnlyList<Delivery> Deliveries(string webhookId)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT alert_id, status, attempts, last_status, updated_at FROM deliveries WHERE webhook_id = @id ORDER BY updated_at DESC";
        Database.AddParameters(command, ("@id", webhookId));
        using var r = command.ExecuteReader();
        var list = new List<Delivery>();
        while (r.Read())
        {
            list.Add(new Delivery(r.GetString(0), r.GetString(1), (int)r.GetInt64(2), r.IsDBNull(3) ? null : (int)r.GetInt64(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4))));
        }

        return list;
    }

    private void Track(string alertId, string webhookId, string status, int attempts, int? lastStatus)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO deliveries (alert_id, webhook_id, status, attempts, last_status, updated_at) VALUES (@a, @w, @s, @n, @l, @t)
            ON CONFLICT (alert_id, webhook_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, last_status = excluded.last_status, updated_at = excluded.updated_at
            """;
        Database.AddParameters(command, ("@a", alertId), ("@w", webhookId), ("@s", status), ("@n", attempts), ("@l", lastStatus), ("@t", _time.GetUtcNow().ToUnixTimeMilliseconds()));
        command.ExecuteNonQuery();
    }

    private async Task DeliverAsync(Webhook hook, Alert alert, string body, CancellationToken stopping)
    {
        int? lastStatus = null;
        for (var attempt = 0; ; attempt++)
        {
            Track(alert.Id, hook.Id, "pending", attempt, lastStatus);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.TryAddWithoutValidation("X-Tollgate-Signature", Sign(hook.Secret, _time.GetUtcNow().ToUnixTimeSeconds(), body));
                request.Headers.TryAddWithoutValidation("X-Tollgate-Event", alert.Type);
                using var response = await _http.CreateClient(HttpClientName).SendAsync(request, stopping);
                lastStatus = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    Track(alert.Id, hook.Id, "delivered", attempt + 1, lastStatus);
                    return;
                }

                LogDeliveryFailed(_log, hook.Id, alert.Type, (int)response.StatusCode, attempt + 1);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stopping.IsCancellationRequested)
            {
                LogDeliveryFailed(_log, hook.Id, alert.Type, 0, attempt + 1);
            }

            if (attempt >= _retryDelays.Length || stopping.IsCancellationRequested)
            {
                Track(alert.Id, hook.Id, stopping.IsCancellationRequested ? "pending" : "failed", attempt + 1, lastStatus);
                LogDeliveryAbandoned(_log, hook.Id, alert.Id);
                return;
            }

            await Task.Delay(_retryDelays[attempt], _time, stopping);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Webhook} refused {Type} (status {Status}, attempt {Attempt})")]
    private static partial void LogDeliveryFailed(ILogger logger, string webhook, string type, int status, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook {Webhook}: delivery of {Alert} failed after every retry")]
    private static partial void LogDeliveryAbandoned(ILogger logger, string webhook, string alert);
}
