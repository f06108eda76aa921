using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Ledger;

/// <summary>
/// A local append-only file (JSON lines, fsynced) that holds usage records while the database cannot take them, so
/// the proxy never stalls and nothing is lost; the writer replays it when the database is back. Record ids make the
/// replay idempotent.
/// </summary>
internal sealed class LedgerSpool(string path)
{
    private readonly Lock _lock = new();

    // Only this process writes the spool: the file is looked at once, then its state is known without a stat per batch.
    private volatile bool _hasRecords = File.Exists(path) && new FileInfo(path).Length > 0;

    public string Path { get; } = path;

    public bool HasRecords => _hasRecords;

    public void Append(IReadOnlyList<UsageRecord> batch)
    {
        var text = new StringBuilder();
        foreach (var record in batch)
        {
            text.Append(JsonSerializer.Serialize(record, StoreJson.Options)).Append('\n');
        }

        lock (_lock)
        {
            using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
            file.Write(Encoding.UTF8.GetBytes(text.ToString()));
            file.Flush(flushToDisk: true);
            _hasRecords = true;
        }
    }

    /// <summary>Hands every spooled record to <paramref name="write"/>; the file is removed only when all were written.</summary>
    public int Replay(Action<IReadOnlyList<UsageRecord>> write, int batchSize)
    {
        lock (_lock)
        {
            if (!File.Exists(Path))
            {
                return 0;
            }

            var records = File.ReadLines(Path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<UsageRecord>(l, StoreJson.Options)!).ToList();
            foreach (var chunk in records.Chunk(batchSize))
            {
                write(chunk);
            }

            File.Delete(Path);
            _hasRecords = false;
            return records.Count;
        }
    }
}
