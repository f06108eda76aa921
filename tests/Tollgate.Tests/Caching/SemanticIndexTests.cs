using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Gateway.Caching;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Storage;

namespace Tollgate.Tests.Caching;

/// <summary>The in-process semantic index: closest first within a context, expiry, one entry per answer, the memory bound.</summary>
public sealed class SemanticIndexTests
{
    private static readonly byte[] ContextA = [.. Enumerable.Repeat((byte)1, 32)];
    private static readonly byte[] ContextB = [.. Enumerable.Repeat((byte)2, 32)];
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-30T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_lookup_returns_the_closest_entries_of_its_context_above_the_threshold()
    {
        using var index = Index(64);
        var query = Unit(0);
        await index.AddAsync("key:k", ContextA, Mix(0.99), Key(1), "near", TimeSpan.FromHours(1));
        await index.AddAsync("key:k", ContextA, Mix(0.97), Key(2), "nearer", TimeSpan.FromHours(1));
        await index.AddAsync("key:k", ContextA, Mix(0.5), Key(3), "far", TimeSpan.FromHours(1));
        await index.AddAsync("key:k", ContextB, Unit(0), Key(4), "other context", TimeSpan.FromHours(1));
        await index.AddAsync("key:other", ContextA, Unit(0), Key(5), "other namespace", TimeSpan.FromHours(1));

        var found = await index.FindAsync("key:k", ContextA, query, 0.95);

        Assert.Equal(["near", "nearer"], found.Select(f => f.Entry.Text));
        Assert.True(found[0].Similarity > found[1].Similarity);
    }

    [Fact]
    public async Task Expired_entries_are_not_found_and_the_same_answer_is_kept_once()
    {
        using var index = Index(64);
        await index.AddAsync("key:k", ContextA, Unit(0), Key(1), "first", TimeSpan.FromMinutes(1));
        await index.AddAsync("key:k", ContextA, Unit(0), Key(1), "again", TimeSpan.FromMinutes(10));

        Assert.Equal(1, index.Count);
        Assert.Equal("again", Assert.Single(await index.FindAsync("key:k", ContextA, Unit(0), 0.9)).Entry.Text);
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Empty(await index.FindAsync("key:k", ContextA, Unit(0), 0.9));
    }

    [Fact]
    public async Task Dropping_a_replaced_entry_leaves_the_answer_that_replaced_it()
    {
        using var index = Index(64);
        await index.AddAsync("key:k", ContextA, Unit(0), Key(1), "first", TimeSpan.FromMinutes(10));
        await index.AddAsync("key:k", ContextA, Unit(1), Key(2), "other", TimeSpan.FromMinutes(10));
        var replaced = Assert.Single(await index.FindAsync("key:k", ContextA, Unit(0), 0.9)).Entry;
        await index.AddAsync("key:k", ContextA, Unit(0), Key(1), "again", TimeSpan.FromMinutes(10));

        index.Remove("key:k", ContextA, replaced);

        Assert.Equal(2, index.Count);
        Assert.Equal("again", Assert.Single(await index.FindAsync("key:k", ContextA, Unit(0), 0.9)).Entry.Text);
        index.Remove("key:k", ContextA, Assert.Single(await index.FindAsync("key:k", ContextA, Unit(1), 0.9)).Entry);
        Assert.Equal(1, index.Count);
    }

    [Fact]
    public async Task The_index_stays_within_its_memory_bound_oldest_first()
    {
        using var index = Index(1); // 1 MB: about 600 entries of 384 floats
        for (var i = 0; i < 2000; i++)
        {
            await index.AddAsync("key:k", ContextA, Unit(i % 384), Key(i), "prompt " + i, TimeSpan.FromHours(1));
        }

        Assert.InRange(index.Count, 100, 700);
        var newest = await index.FindAsync("key:k", ContextA, Unit(1999 % 384), 0.99, limit: 10);
        Assert.Contains(newest, f => f.Entry.Text == "prompt 1999");
        Assert.DoesNotContain(await index.FindAsync("key:k", ContextA, Unit(0), 0.99, limit: 10), f => f.Entry.Text == "prompt 0");
    }

    private SemanticIndex Index(int megabytes) =>
        new(_time, new GatewaySettings { CacheMaxMb = megabytes }, new SecretProtector(new byte[32]), new ServiceCollection().BuildServiceProvider(), NullLogger<SemanticIndex>.Instance);

    private static byte[] Key(int i) => [.. BitConverter.GetBytes(i), .. new byte[28]];

    private static float[] Unit(int axis)
    {
        var v = new float[TextEmbedder.Dimensions];
        v[axis] = 1;
        return v;
    }

    /// <summary>A unit vector whose cosine with axis 0 is <paramref name="cosine"/>.</summary>
    private static float[] Mix(double cosine)
    {
        var v = new float[TextEmbedder.Dimensions];
        v[0] = (float)cosine;
        v[1] = (float)Math.Sqrt(1 - (cosine * cosine));
        return v;
    }
}
