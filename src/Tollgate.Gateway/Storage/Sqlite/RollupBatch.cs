namespace Tollgate.Gateway.Storage;

/// <summary>
/// The roll-up rows of one ledger batch, summed in memory from the records the batch really inserted (a record already
/// in the ledger, replayed from the spool, adds nothing), then added to each roll-up with one upsert per row.
/// </summary>
internal sealed class RollupBatch
{
    private static readonly int Ts = Index("ts");
    private static readonly int[] DimensionIndexes = [.. UsageRollup.Dimensions.Select(Index)];
    private static readonly int[] SourceIndexes = [.. UsageRollup.Figures.Select(f => f.Source is { } source ? Index(source) : -1)];

    /// <summary>What the record being added adds to each figure (one buffer: the sink adds records one at a time).</summary>
    private readonly long[] _amounts = new long[SourceIndexes.Length];

    private readonly Dictionary<Bucket, long[]>[] _rows = [.. UsageRollup.All.Select(_ => new Dictionary<Bucket, long[]>(BucketComparer.Instance))];

    /// <summary>Adds one inserted record, given as its <see cref="Database.UsageValues"/>.</summary>
    public void Add(object?[] values)
    {
        var dimensions = new string[DimensionIndexes.Length];
        for (var i = 0; i < dimensions.Length; i++)
        {
            dimensions[i] = values[DimensionIndexes[i]] as string ?? "";
        }

        for (var i = 0; i < _amounts.Length; i++)
        {
            _amounts[i] = UsageRollup.Figures[i].PerRecord(SourceIndexes[i] < 0 ? null : values[SourceIndexes[i]]);
        }

        var ts = (long)values[Ts]!;
        for (var level = 0; level < _rows.Length; level++)
        {
            var unit = UsageRollup.All[level].Unit;
            var bucket = new Bucket(ts - (ts % unit), dimensions);
            if (!_rows[level].TryGetValue(bucket, out var sums))
            {
                _rows[level][bucket] = sums = new long[SourceIndexes.Length];
            }

            for (var i = 0; i < sums.Length; i++)
            {
                sums[i] += _amounts[i];
            }
        }
    }

    /// <summary>
    /// Each roll-up's rows (the level indexes <see cref="UsageRollup.All"/>) as
    /// <see cref="UsageRollup.UpsertValues"/> binds them: bucket, dimensions, figures.
    /// </summary>
    public IEnumerable<(int Level, object[] Values)> Rows()
    {
        for (var level = 0; level < _rows.Length; level++)
        {
            foreach (var (bucket, sums) in _rows[level])
            {
                yield return (level, [bucket.Start, .. bucket.Dimensions, .. sums.Select(s => (object)s)]);
            }
        }
    }

    public void Clear()
    {
        foreach (var rows in _rows)
        {
            rows.Clear();
        }
    }

    private static int Index(string column) => Array.IndexOf(Database.UsageColumns, column) is >= 0 and var i ? i : throw new InvalidOperationException($"No ledger column {column}.");

    private readonly record struct Bucket(long Start, string[] Dimensions);

    private sealed class BucketComparer : IEqualityComparer<Bucket>
    {
        public static readonly BucketComparer Instance = new();

        public bool Equals(Bucket x, Bucket y) => x.Start == y.Start && x.Dimensions.AsSpan().SequenceEqual(y.Dimensions);

        public int GetHashCode(Bucket bucket)
        {
            var hash = new HashCode();
            hash.Add(bucket.Start);
            foreach (var dimension in bucket.Dimensions)
            {
                hash.Add(dimension);
            }

            return hash.ToHashCode();
        }
    }
}
