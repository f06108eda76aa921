using StackExchange.Redis;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Circuit breakers shared by every replica: per key or group, a hash of cost per second (the last 60 seconds) and a
/// hash with the open-until time and the half-open probe flag, each changed by one Lua script.
/// </summary>
internal sealed class RedisCircuitStore(IConnectionMultiplexer redis, string prefix, TimeSpan cooldown) : ICircuitStore
{
    // KEYS: state. ARGV: now (ms). Returns {allowed, retry after ms, probe}.
    private static readonly LuaScript Enter = LuaScript.Prepare("""
        local now = tonumber(ARGV[1])
        local openUntil = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
        if openUntil == 0 then return {1, 0, 0} end
        if now < openUntil then return {0, openUntil - now, 0} end
        if redis.call('HGET', KEYS[1], 'probe') == '1' then return {0, 1000, 0} end
        redis.call('HSET', KEYS[1], 'probe', '1')
        return {1, 0, 1}
        """);

    // KEYS: costs, state. ARGV: now (s), cost, limit, probe (0/1), now (ms), cool-down (ms). Returns 1 when this opened it.
    private static readonly LuaScript Record = LuaScript.Prepare("""
        local second = tonumber(ARGV[1])
        redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
        redis.call('EXPIRE', KEYS[1], 120)
        local all = redis.call('HGETALL', KEYS[1])
        local sum = 0
        for i = 1, #all, 2 do
          if tonumber(all[i]) > second - 60 then sum = sum + tonumber(all[i + 1]) else redis.call('HDEL', KEYS[1], all[i]) end
        end
        local over = sum > tonumber(ARGV[3])
        local reopenAt = tonumber(ARGV[5]) + tonumber(ARGV[6])
        if ARGV[4] == '1' then
          redis.call('HSET', KEYS[2], 'probe', '0')
          if over then redis.call('HSET', KEYS[2], 'open_until', reopenAt) return 1 end
          redis.call('HSET', KEYS[2], 'open_until', 0)
          return 0
        end
        local openUntil = tonumber(redis.call('HGET', KEYS[2], 'open_until') or '0')
        if openUntil == 0 and over then
          redis.call('HSET', KEYS[2], 'open_until', reopenAt)
          return 1
        end
        return 0
        """);

    public async ValueTask<(bool Allowed, TimeSpan RetryAfter, bool Probe)> EnterAsync(string key, DateTimeOffset now)
    {
        var r = (RedisResult[])(await Run(db => db.ScriptEvaluateAsync(Enter.ExecutableScript, [prefix + key + ":state"], [now.ToUnixTimeMilliseconds()])))!;
        return ((long)r[0] == 1, TimeSpan.FromMilliseconds((long)r[1]), (long)r[2] == 1);
    }

    public async ValueTask ReleaseProbeAsync(string key) =>
        await Run(async db => RedisResult.Create(await db.HashSetAsync(prefix + key + ":state", "probe", "0")));

    public async ValueTask<bool> RecordAsync(string key, long costE10, long limitE10, bool probe, DateTimeOffset now) =>
        (long)(await Run(db => db.ScriptEvaluateAsync(
            Record.ExecutableScript,
            [prefix + key + ":costs", prefix + key + ":state"],
            [now.ToUnixTimeSeconds(), costE10, limitE10, probe ? "1" : "0", now.ToUnixTimeMilliseconds(), (long)cooldown.TotalMilliseconds]))) == 1;

    private Task<RedisResult> Run(Func<IDatabase, Task<RedisResult>> call) => RedisCalls.RunAsync(redis, call);
}
