using System.Diagnostics;
using System.Globalization;

namespace Sandbox.Benchmarks;

/// <summary>Latency samples of one measured operation, with percentiles.</summary>
internal sealed class LatencyStats(string name)
{
    private readonly List<double> _samples = [];

    public string Name { get; } = name;

    public int Count => _samples.Count;

    public void Add(long startTimestamp) => _samples.Add(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds);

    /// <summary>Adds a sample measured elsewhere (e.g. by the JS SDK worker).</summary>
    public void AddMilliseconds(double milliseconds) => _samples.Add(milliseconds);

    public double Percentile(double p)
    {
        if (_samples.Count == 0)
        {
            return double.NaN;
        }

        List<double> sorted = [.. _samples];
        sorted.Sort();
        double rank = p / 100 * (sorted.Count - 1);
        int low = (int)Math.Floor(rank);
        int high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    public double Mean => _samples.Count == 0 ? double.NaN : _samples.Average();

    public static string Ms(double value) => value.ToString(value < 0.1 ? "0.0000" : "0.000", CultureInfo.InvariantCulture);
}
