using System.Numerics.Tensors;

namespace Tollgate.ComplexityLab;

/// <summary>
/// L2-regularized logistic regression fitted by Newton's method (IRLS) with a Cholesky solve. Columns are standardized
/// with the training set's mean and deviation; the intercept is not penalized; each column has its own penalty
/// (0 = unpenalized), so a block (the lexical features, the v3 logit) can be penalized less than the embedding.
/// Objective: Σ log-loss + ½ Σ penalty_j w_j².
/// </summary>
internal sealed class LogReg
{
    private readonly double[] _mean;
    private readonly double[] _scale;
    public double[] W { get; }
    public IReadOnlyList<double> Mean => _mean;
    public IReadOnlyList<double> Scale => _scale;
    public double B { get; private set; }

    private LogReg(double[] mean, double[] scale, double[] w, double b)
    {
        _mean = mean;
        _scale = scale;
        W = w;
        B = b;
    }

    public static LogReg Fit(IReadOnlyList<double[]> xs, IReadOnlyList<bool> ys, double[] penalty, LogReg? warm = null, int maxIter = 50)
    {
        var n = xs.Count;
        var d = xs[0].Length;
        var mean = new double[d];
        var scale = new double[d];
        foreach (var x in xs)
        {
            for (var j = 0; j < d; j++)
            {
                mean[j] += x[j];
            }
        }

        for (var j = 0; j < d; j++)
        {
            mean[j] /= n;
        }

        foreach (var x in xs)
        {
            for (var j = 0; j < d; j++)
            {
                scale[j] += (x[j] - mean[j]) * (x[j] - mean[j]);
            }
        }

        for (var j = 0; j < d; j++)
        {
            scale[j] = Math.Sqrt(scale[j] / n);
            if (scale[j] < 1e-9)
            {
                scale[j] = 1;
            }
        }

        // Design matrix with a leading 1 for the intercept.
        var m = d + 1;
        var z = new double[n][];
        for (var i = 0; i < n; i++)
        {
            var row = new double[m];
            row[0] = 1;
            for (var j = 0; j < d; j++)
            {
                row[j + 1] = (xs[i][j] - mean[j]) / scale[j];
            }

            z[i] = row;
        }

        var beta = new double[m];
        if (warm is not null && warm.W.Length == d)
        {
            beta[0] = warm.B;
            Array.Copy(warm.W, 0, beta, 1, d);
        }

        var h = new double[m * m];
        var g = new double[m];
        for (var iter = 0; iter < maxIter; iter++)
        {
            Array.Clear(h);
            Array.Clear(g);
            for (var i = 0; i < n; i++)
            {
                var zi = z[i];
                var p = Sigmoid(TensorPrimitives.Dot<double>(zi, beta));
                var r = p - (ys[i] ? 1 : 0);
                var w = Math.Max(p * (1 - p), 1e-10);
                TensorPrimitives.MultiplyAdd<double>(zi, r, g, g);
                for (var a = 0; a < m; a++)
                {
                    var row = h.AsSpan((a * m) + a, m - a);
                    TensorPrimitives.MultiplyAdd<double>(zi.AsSpan(a), w * zi[a], row, row);
                }
            }

            for (var a = 1; a < m; a++)
            {
                g[a] += penalty[a - 1] * beta[a];
                h[(a * m) + a] += penalty[a - 1];
            }

            h[0] += 1e-8;
            for (var a = 0; a < m; a++)
            {
                for (var c = a + 1; c < m; c++)
                {
                    h[(c * m) + a] = h[(a * m) + c];
                }
            }

            var step = CholeskySolve(h, g, m);
            var max = 0.0;
            for (var a = 0; a < m; a++)
            {
                beta[a] -= step[a];
                max = Math.Max(max, Math.Abs(step[a]));
            }

            if (max < 1e-7)
            {
                break;
            }
        }

        return new LogReg(mean, scale, beta[1..], beta[0]);
    }

    public double Logit(double[] x)
    {
        var s = B;
        for (var j = 0; j < x.Length; j++)
        {
            s += W[j] * (x[j] - _mean[j]) / _scale[j];
        }

        return s;
    }

    public double Prob(double[] x) => Sigmoid(Logit(x));

    public static double Sigmoid(double t) => 1 / (1 + Math.Exp(-t));

    private static double[] CholeskySolve(double[] a, double[] b, int m)
    {
        var l = new double[m * m];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var s = a[(i * m) + j] - TensorPrimitives.Dot<double>(l.AsSpan(i * m, j), l.AsSpan(j * m, j));
                if (i == j)
                {
                    l[(i * m) + i] = Math.Sqrt(Math.Max(s, 1e-12));
                }
                else
                {
                    l[(i * m) + j] = s / l[(j * m) + j];
                }
            }
        }

        var y = new double[m];
        for (var i = 0; i < m; i++)
        {
            var s = b[i];
            for (var k = 0; k < i; k++)
            {
                s -= l[(i * m) + k] * y[k];
            }

            y[i] = s / l[(i * m) + i];
        }

        var x = new double[m];
        for (var i = m - 1; i >= 0; i--)
        {
            var s = y[i];
            for (var k = i + 1; k < m; k++)
            {
                s -= l[(k * m) + i] * x[k];
            }

            x[i] = s / l[(i * m) + i];
        }

        return x;
    }
}
