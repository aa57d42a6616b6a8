namespace Samples.Tests;

/// <summary>The sample runs start their own embedded servers and boxes; they run one at a time to keep timings sane on small machines.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SamplesCollection
{
    public const string Name = "samples";
}
