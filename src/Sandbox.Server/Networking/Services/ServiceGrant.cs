namespace Sandbox.Server.Networking.Services;

/// <summary>A durable login grant for one port of a box.</summary>
internal sealed record ServiceGrant(string Access, IReadOnlyList<string> EmbedOrigins, DateTimeOffset CreatedAt);
