namespace Sandbox.AgentTools.Tests;

[CollectionDefinition(Name)]
public sealed class LocalServerCollection : ICollectionFixture<LocalServerFixture>
{
    public const string Name = "local sandbox server";
}
