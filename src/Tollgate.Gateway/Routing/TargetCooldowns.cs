using System.Collections.Concurrent;
using System.Globalization;
using StackExchange.Redis;
using Tollgate.Gateway.Hosting;

namespace Tollgate.Gateway.Routing;

/// <summary>
/// Which route targets (<c>provider/model</c>) are cooling down: a target that failed a route's
/// <see cref="CooldownPolicy.Failures"/> times in a row is skipped for <see cref="CooldownPolicy.Seconds"/>.
/// <para>
/// The call path only reads this process's copy (no round trip per call). With Redis, failures are counted in Redis,
/// so replicas share the count; the replica whose failure opens a cooldown announces it on a channel, and every replica
/// (itself included) puts it in its copy. A success resets the count where this replica has seen failures of the target.
/// Redis unreachable: the count stays local.
/// </para>
/// </summary>
internal sealed class TargetCooldowns : IDisposable
{
    // KEYS: failures, until. ARGV: threshold, cooldown ms, now ms. Returns the cooldown's end (ms) when this failure opened it, else 0.
    private static readonly LuaScript Fail = LuaScript.Prepare("""
        local n = redis.call('INCR', KEYS[1])
        redis.call('PEXPIRE', KEYS[1], 600000)
        if n >= tonumber(ARGV[1]) then
          redis.call('DEL', KEYS[1])
          local untilMs = tonumber(ARGV[3]) + tonumber(ARGV[2])
          redis.call('SET', KEYS[2], untilMs, 'PX', ARGV[2])
          return untilMs
        end
        return 0
        """);

    private readonly ConcurrentDictionary<string, State> _targets = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly IConnectionMultiplexer? _redis;
    private readonly string _prefix;
    private readonly RedisChannel _channel;

    public TargetCooldowns(TimeProvider time, GatewaySettings settings, IServiceProvider services)
    {
        _time = time;
        _redis = services.GetService<IConnectionMultiplexer>();
        _prefix = settings.RedisPrefix + "cooldown:";
        _channel = RedisChannel.Literal(_prefix + "opened");
        if (_redis is not null)
        {
            // Not awaited: Redis may be down at start; the subscription is made when it connects.
            _ = _redis.GetSubscriber().SubscribeAsync(_channel, (_, message) => Heard(message));
        }
    }

    /// <summary>Whether the target is in a cooldown now.</summary>
    public bool IsCooling(string target) =>
        _targets.TryGetValue(target, out var state) && Volatile.Read(ref state.Until) > _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Counts a failure of the target; the one that reaches the policy's count opens its cooldown.</summary>
    public async ValueTask FailedAsync(string target, CooldownPolicy policy)
    {
        var state = _targets.GetOrAdd(target, _ => new State());
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        Interlocked.Increment(ref state.Failures);
        if (_redis is { IsConnected: true } redis)
        {
            try
            {
                var until = (long)await redis.GetDatabase().ScriptEvaluateAsync(
                    Fail.ExecutableScript,
                    [_prefix + target + ":failures", _prefix + target + ":until"],
                    [policy.Failures, policy.Seconds * 1000L, now]);
                if (until > 0)
                {
                    Open(state, until);
                    await redis.GetSubscriber().PublishAsync(_channel, target + " " + until.ToString(CultureInfo.InvariantCulture));
                }

                return;
            }
            catch (Exception e) when (e is RedisException or RedisTimeoutException or ObjectDisposedException)
            {
                // Counted locally below.
            }
        }

        lock (state)
        {
            if (++state.Streak >= policy.Failures)
            {
                state.Streak = 0;
                Open(state, now + (policy.Seconds * 1000L));
            }
        }
    }

    /// <summary>A success ends the target's run of failures.</summary>
    public void Succeeded(string target)
    {
        if (!_targets.TryGetValue(target, out var state) || Interlocked.Exchange(ref state.Failures, 0) == 0)
        {
            return;
        }

        lock (state)
        {
            state.Streak = 0;
        }

        if (_redis is { IsConnected: true } redis)
        {
            _ = redis.GetDatabase().KeyDeleteAsync(_prefix + target + ":failures", CommandFlags.FireAndForget);
        }
    }

    public void Dispose()
    {
        try
        {
            _redis?.GetSubscriber().Unsubscribe(_channel, null, CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException)
        {
            // Shutting down without Redis: nothing to unsubscribe from.
        }
    }

    private static void Open(State state, long until)
    {
        long seen;
        while ((seen = Volatile.Read(ref state.Until)) < until && Interlocked.CompareExchange(ref state.Until, until, seen) != seen)
        {
        }
    }

    private void Heard(RedisValue message)
    {
        var text = (string?)message;
        var space = text?.LastIndexOf(' ') ?? -1;
        if (space > 0 && long.TryParse(text.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var until))
        {
            var state = _targets.GetOrAdd(text![..space], _ => new State());
            Interlocked.Increment(ref state.Failures);
            Open(state, until);
        }
    }

    /// <summary>One target's state in this process.</summary>
    private sealed class State
    {
        /// <summary>End of the cooldown, Unix ms (0: none).</summary>
        public long Until;

        /// <summary>Failures this replica has seen since the last success (a success resets the shared count only when this is non-zero).</summary>
        public long Failures;

        /// <summary>The run of failures when counted locally (no Redis).</summary>
        public int Streak;
    }
}
