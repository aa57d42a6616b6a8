using System.Diagnostics;
using System.Globalization;

namespace Sandbox.Benchmarks.Server;

/// <summary>Latency samples of one measured operation, with percentiles.</summary>
internal sealed class Latency(string name)
{
    private readonly List<double> _samples = [];

    public string Name { get; } = name;

    public void Add(long startTimestamp) => _samples.Add(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds);

    public double Percentile(double p)
    {
        List<double> sorted = [.. _samples];
        sorted.Sort();
        double rank = p / 100 * (sorted.Count - 1);
        int low = (int)Math.Floor(rank);
        int high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    public static string Ms(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
