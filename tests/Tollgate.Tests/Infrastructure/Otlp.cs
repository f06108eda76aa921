using System.Buffers.Binary;
using System.Text;

namespace Tollgate.Tests.Infrastructure;

/// <summary>
/// A protobuf message read field by field from the wire format (no generated classes): enough to check what an
/// OTLP exporter really sent.
/// </summary>
public sealed class ProtoMessage
{
    private readonly List<(int Field, ulong Number, ReadOnlyMemory<byte> Bytes)> _fields = [];

    public ProtoMessage(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        var i = 0;
        while (i < span.Length)
        {
            var tag = Varint(span, ref i);
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    _fields.Add((field, Varint(span, ref i), default));
                    break;
                case 1:
                    _fields.Add((field, BinaryPrimitives.ReadUInt64LittleEndian(span[i..]), default));
                    i += 8;
                    break;
                case 2:
                    var length = (int)Varint(span, ref i);
                    _fields.Add((field, 0, data.Slice(i, length)));
                    i += length;
                    break;
                case 5:
                    _fields.Add((field, BinaryPrimitives.ReadUInt32LittleEndian(span[i..]), default));
                    i += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported wire type in tag {tag}.");
            }
        }
    }

    public IEnumerable<ProtoMessage> Messages(int field) => _fields.Where(f => f.Field == field).Select(f => new ProtoMessage(f.Bytes));

    public ProtoMessage? Message(int field) => Messages(field).FirstOrDefault();

    public bool Has(int field) => _fields.Any(f => f.Field == field);

    public string? String(int field) => _fields.Where(f => f.Field == field).Select(f => Encoding.UTF8.GetString(f.Bytes.Span)).FirstOrDefault();

    public byte[]? Bytes(int field) => _fields.Where(f => f.Field == field).Select(f => f.Bytes.ToArray()).FirstOrDefault();

    public ulong Number(int field) => _fields.Where(f => f.Field == field).Select(f => f.Number).FirstOrDefault();

    public double Double(int field) => BitConverter.UInt64BitsToDouble(Number(field));

    private static ulong Varint(ReadOnlySpan<byte> span, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = span[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}

/// <summary>The parts of OTLP (opentelemetry-proto, trace and metrics v1) the telemetry tests read.</summary>
public static class Otlp
{
    public sealed record Span(string Name, string TraceId, string SpanId, string ParentSpanId, int Kind, ulong StartNanos, ulong EndNanos, int StatusCode, IReadOnlyDictionary<string, object> Attributes);

    public sealed record Point(IReadOnlyDictionary<string, object> Attributes, double Value, ulong Count);

    public sealed record Metric(string Name, string Unit, string Type, IReadOnlyList<Point> Points);

    /// <summary>ExportTraceServiceRequest → resource_spans(1) → scope_spans(2) → spans(2).</summary>
    public static IEnumerable<Span> Spans(byte[] body) =>
        from resource in new ProtoMessage(body).Messages(1)
        from scope in resource.Messages(2)
        from span in scope.Messages(2)
        select new Span(span.String(5)!, Hex(span.Bytes(1)), Hex(span.Bytes(2)), Hex(span.Bytes(4)), (int)span.Number(6),
            span.Number(7), span.Number(8), (int)(span.Message(15)?.Number(3) ?? 0), Attributes(span.Messages(9)));

    /// <summary>ExportMetricsServiceRequest → resource_metrics(1) → scope_metrics(2) → metrics(2): sums (7) and histograms (9).</summary>
    public static IEnumerable<Metric> Metrics(byte[] body) =>
        from resource in new ProtoMessage(body).Messages(1)
        from scope in resource.Messages(2)
        from metric in scope.Messages(2)
        select ReadMetric(metric);

    public static IReadOnlyDictionary<string, string> ResourceAttributes(byte[] body) =>
        Attributes(new ProtoMessage(body).Message(1)?.Message(1)?.Messages(1) ?? []).ToDictionary(a => a.Key, a => a.Value.ToString()!);

    private static Metric ReadMetric(ProtoMessage metric)
    {
        if (metric.Message(9) is { } histogram)
        {
            return new Metric(metric.String(1)!, metric.String(3) ?? "", "histogram",
                [.. histogram.Messages(1).Select(p => new Point(Attributes(p.Messages(9)), p.Double(5), p.Number(4)))]);
        }

        if (metric.Message(7) is { } sum)
        {
            return new Metric(metric.String(1)!, metric.String(3) ?? "", "sum",
                [.. sum.Messages(1).Select(p => new Point(Attributes(p.Messages(7)), p.Has(4) ? p.Double(4) : (long)p.Number(6), 1))]);
        }

        return new Metric(metric.String(1)!, metric.String(3) ?? "", "other", []);
    }

    /// <summary>KeyValue{key(1), value(2)}; AnyValue{string(1), bool(2), int(3), double(4), array(5){values(1)}}.</summary>
    private static Dictionary<string, object> Attributes(IEnumerable<ProtoMessage> keyValues) =>
        keyValues.ToDictionary(kv => kv.String(1)!, kv => Value(kv.Message(2)!));

    private static object Value(ProtoMessage any) =>
        any.Has(1) ? any.String(1)!
        : any.Has(2) ? any.Number(2) != 0
        : any.Has(3) ? (long)any.Number(3)
        : any.Has(4) ? any.Double(4)
        : any.Message(5) is { } array ? array.Messages(1).Select(v => Value(v).ToString()!).ToArray()
        : "";

    private static string Hex(byte[]? bytes) => bytes is null ? "" : Convert.ToHexStringLower(bytes);
}
