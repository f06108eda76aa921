using StackExchange.Redis;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Counters in Redis, shared by every replica. A reservation is one Lua script: it checks every line and books them
/// all or none, atomically on the Redis server, so budgets hold across replicas exactly as within one process.
/// Totals are integers (tokens, requests, money in 1e-10 units) kept with INCRBY; rate counters hold the GCRA
/// arrival time in microseconds. Lua compares in doubles, exact up to 2^53 units (about 900 000 in money).
/// </summary>
internal sealed class RedisCounterStore(IConnectionMultiplexer redis, string prefix) : ICounterStore
{
    private const long WindowMicros = 60_000_000;

    // KEYS: counters. ARGV: now (µs), then per key: kind (0 total, 1 rate), amount, limit, expiry (unix ms, 0 = none).
    // Returns {1, remaining_1, reset_1, ...} for the rate lines after booking, or {0, failed line (1-based), retry after µs,
    // remaining_1, reset_1, ...} for the rate lines as they stand (the failed one at zero remaining), nothing booked.
    private static readonly LuaScript Reserve = LuaScript.Prepare("""
        local now = tonumber(ARGV[1])
        local n = #KEYS
        local values = {}
        local failed, retry = 0, 0
        for i = 1, n do
          local kind = tonumber(ARGV[2 + (i - 1) * 4])
          local amount = tonumber(ARGV[3 + (i - 1) * 4])
          local limit = tonumber(ARGV[4 + (i - 1) * 4])
          local expiry = tonumber(ARGV[5 + (i - 1) * 4])
          local v = tonumber(redis.call('GET', KEYS[i]) or '0')
          if kind == 0 then
            if failed == 0 and v + amount > limit then
              failed, retry = i, 86400000000
              if expiry > 0 then retry = expiry * 1000 - now end
            end
            values[i] = v + amount
          else
            local tat = math.max(v, now)
            local newTat = tat + math.floor(amount * 60000000 / limit)
            if failed == 0 and newTat - now > 60000000 then
              failed, retry = i, newTat - now - 60000000
            end
            values[i] = newTat
          end
        end
        local result = {1}
        if failed ~= 0 then
          result = {0, failed, retry}
          for i = 1, n do
            if tonumber(ARGV[2 + (i - 1) * 4]) == 1 then
              local limit = tonumber(ARGV[4 + (i - 1) * 4])
              local tat = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now)
              local free = math.max(0, 60000000 - (tat - now))
              if i == failed then free = 0 end
              table.insert(result, math.floor(free * limit / 60000000))
              table.insert(result, tat - now)
            end
          end
          return result
        end
        for i = 1, n do
          local kind = tonumber(ARGV[2 + (i - 1) * 4])
          local limit = tonumber(ARGV[4 + (i - 1) * 4])
          local expiry = tonumber(ARGV[5 + (i - 1) * 4])
          if kind == 0 then
            redis.call('INCRBY', KEYS[i], tonumber(ARGV[3 + (i - 1) * 4]))
            if expiry > 0 then redis.call('PEXPIREAT', KEYS[i], expiry) end
          else
            redis.call('SET', KEYS[i], string.format('%d', values[i]), 'PX', 120000)
            local free = math.max(0, 60000000 - (values[i] - now))
            table.insert(result, math.floor(free * limit / 60000000))
            table.insert(result, values[i] - now)
          end
        end
        return result
        """);

    // KEYS: counters. ARGV: per key: kind, delta (total units or µs).
    private static readonly LuaScript Settle = LuaScript.Prepare("""
        for i = 1, #KEYS do
          local delta = tonumber(ARGV[(i - 1) * 2 + 2])
          if delta ~= 0 and redis.call('EXISTS', KEYS[i]) == 1 then
            redis.call('INCRBY', KEYS[i], delta)
          end
        end
        return 0
        """);

    public async ValueTask<ReserveOutcome> ReserveAsync(IReadOnlyList<CounterCharge> charges, DateTimeOffset now)
    {
        var keys = new RedisKey[charges.Count];
        var args = new RedisValue[1 + (charges.Count * 4)];
        args[0] = Micros(now);
        for (var i = 0; i < charges.Count; i++)
        {
            var c = charges[i];
            keys[i] = prefix + c.Key;
            args[1 + (i * 4)] = c.Kind == CounterKind.Total ? 0 : 1;
            args[2 + (i * 4)] = c.Amount;
            args[3 + (i * 4)] = c.Limit;
            args[4 + (i * 4)] = c.ExpiresAt == DateTimeOffset.MaxValue ? 0 : c.ExpiresAt.ToUnixTimeMilliseconds();
        }

        var result = (RedisResult[])(await Run(db => db.ScriptEvaluateAsync(Reserve.ExecutableScript, keys, args)))!;
        var accepted = (long)result[0] == 1;
        var rates = new List<RateState>();
        var r = accepted ? 1 : 3;
        foreach (var c in charges)
        {
            if (c.Kind == CounterKind.Rate)
            {
                rates.Add(new RateState(c.Limit, (long)result[r], TimeSpan.FromTicks((long)result[r + 1] * 10)));
                r += 2;
            }
        }

        return accepted
            ? ReserveOutcome.Ok([.. rates])
            : ReserveOutcome.Refused((int)(long)result[1] - 1, TimeSpan.FromTicks(Math.Max(0, (long)result[2]) * 10), [.. rates]);
    }

    public async ValueTask SettleAsync(IReadOnlyList<CounterCharge> charges, IReadOnlyList<long> actual, DateTimeOffset now)
    {
        var keys = new RedisKey[charges.Count];
        var args = new RedisValue[charges.Count * 2];
        for (var i = 0; i < charges.Count; i++)
        {
            var c = charges[i];
            var delta = actual[i] - c.Amount;
            keys[i] = prefix + c.Key;
            args[i * 2] = c.Kind == CounterKind.Total ? 0 : 1;
            args[(i * 2) + 1] = c.Kind == CounterKind.Total ? delta : (long)((Int128)delta * WindowMicros / Math.Max(1, c.Limit));
        }

        await Run(db => db.ScriptEvaluateAsync(Settle.ExecutableScript, keys, args));
    }

    public async ValueTask AddAsync(IReadOnlyList<(string Key, long Amount, DateTimeOffset ExpiresAt)> additions, DateTimeOffset now)
    {
        await Run(async db =>
        {
            var batch = db.CreateBatch();
            var tasks = new List<Task>();
            foreach (var (key, amount, expiresAt) in additions)
            {
                tasks.Add(batch.StringIncrementAsync(prefix + key, amount));
                if (expiresAt != DateTimeOffset.MaxValue)
                {
                    tasks.Add(batch.KeyExpireAsync(prefix + key, expiresAt.UtcDateTime));
                }
            }

            batch.Execute();
            await Task.WhenAll(tasks);
            return RedisResult.Create(RedisValue.Null);
        });
    }

    public async ValueTask InitializeAsync(string key, long value, DateTimeOffset expiresAt, DateTimeOffset now) =>
        await Run(async db => RedisResult.Create(await db.StringSetAsync(prefix + key, value,
            expiresAt == DateTimeOffset.MaxValue ? null : expiresAt - now, When.NotExists)));

    public async ValueTask<long> GetAsync(string key, DateTimeOffset now) =>
        (long?)(await Run(async db => RedisResult.Create(await db.StringGetAsync(prefix + key)))) ?? 0;

    public async ValueTask DeleteAsync(string key) => await Run(async db => RedisResult.Create(await db.KeyDeleteAsync(prefix + key)));

    private static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private Task<RedisResult> Run(Func<IDatabase, Task<RedisResult>> call) => RedisCalls.RunAsync(redis, call);
}

/// <summary>The counter store could not be reached: hard limits fail closed, rate limits fail open (configurable).</summary>
internal sealed class CounterStoreUnavailableException : Exception
{
    public CounterStoreUnavailableException()
    {
    }

    public CounterStoreUnavailableException(string message)
        : base(message)
    {
    }

    public CounterStoreUnavailableException(Exception inner)
        : base("The counter store is unreachable: " + inner.Message, inner)
    {
    }

    public CounterStoreUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
