namespace EvalHarness.Running;

/// <summary>A fresh box after the run: did the server still create it and run code in it?</summary>
internal sealed record HealthCheck(bool Healthy, TimeSpan Elapsed, string Detail);
