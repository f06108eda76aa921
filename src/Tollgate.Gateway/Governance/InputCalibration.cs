using System.Collections.Concurrent;
using Tollgate.Gateway.Hosting;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// How many input tokens each provider's model really counts per token the gateway estimates, learned from settled
/// calls. A reservation of <c>estimate × factor</c> input tokens is what keeps hard limits exact when a provider counts
/// more than o200k does (Anthropic's and Gemini's tokenizers, chat templates, images): the factor is the highest ratio
/// actual ÷ estimated among the model's last <see cref="Window"/> calls, never below 1; until a model has
/// <see cref="MinSamples"/> calls, it is the safety margin <see cref="GatewaySettings.ReservationMargin"/>.
/// Replicas share their factors through <see cref="CalibrationSync"/> when Redis is configured.
/// <para>
/// The highest ratio, not a lower quantile: a reservation below the actual count is what lets spend pass a hard limit,
/// while one above it costs only an early 429 near the limit (released at settlement). The window lets an outlier age out.
/// </para>
/// </summary>
internal sealed class InputCalibration(GatewaySettings settings)
{
    public const int Window = 100;
    public const int MinSamples = 5;

    private readonly ConcurrentDictionary<string, Model> _models = new(StringComparer.Ordinal);
    private readonly double _margin = (double)settings.ReservationMargin;

    /// <summary>The factor for a model (<c>provider/model</c>) on the request path: one dictionary lookup, no lock.</summary>
    public double Factor(string model)
    {
        if (!settings.CalibrateReservations)
        {
            return _margin;
        }

        return _models.TryGetValue(model, out var m) && m.Factor is var f && f > 0 ? f : _margin;
    }

    /// <summary>Input tokens to reserve for an estimate: rounded up, so an exact factor reserves the exact count.</summary>
    public long Reserve(string model, long estimate) => estimate <= 0 ? 0 : (long)Math.Ceiling((estimate * Factor(model)) - 1e-6);

    /// <summary>Learns from a settled call whose provider reported its input tokens.</summary>
    public void Observe(string model, long estimated, long actual)
    {
        if (estimated > 0 && actual > 0 && settings.CalibrateReservations)
        {
            _models.GetOrAdd(model, static _ => new Model()).Add((double)actual / estimated);
        }
    }

    /// <summary>Takes another replica's factor for a model (the higher one wins).</summary>
    public void Merge(string model, double shared) => _models.GetOrAdd(model, static _ => new Model()).Shared = shared;

    /// <summary>This replica's own factors, for sharing.</summary>
    public IEnumerable<(string Model, double Factor)> LocalFactors()
    {
        foreach (var (name, model) in _models)
        {
            if (model.LocalFactor is var f and > 0)
            {
                yield return (name, f);
            }
        }
    }

    private sealed class Model
    {
        private readonly Lock _lock = new();
        private readonly double[] _ratios = new double[Window];
        private int _count;
        private double _shared;

        /// <summary>The published factor: 0 while there is no history here or elsewhere.</summary>
        public double Factor { get; private set; }

        /// <summary>The highest ratio of the window, at least 1, once there are enough samples; else 0.</summary>
        public double LocalFactor { get; private set; }

        public double Shared
        {
            set
            {
                lock (_lock)
                {
                    _shared = value;
                    Publish();
                }
            }
        }

        public void Add(double ratio)
        {
            lock (_lock)
            {
                _ratios[_count++ % Window] = ratio;
                var max = 0d;
                var n = Math.Min(_count, Window);
                for (var i = 0; i < n; i++)
                {
                    max = Math.Max(max, _ratios[i]);
                }

                LocalFactor = _count >= MinSamples ? Math.Max(1, max) : 0;
                Publish();
            }
        }

        private void Publish() => Factor = LocalFactor > 0 || _shared > 0 ? Math.Max(1, Math.Max(LocalFactor, _shared)) : 0;
    }
}
