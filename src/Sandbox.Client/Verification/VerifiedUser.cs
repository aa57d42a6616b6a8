namespace Sandbox.Client;

/// <summary>The identity carried by a verified user token (delta §7.4).</summary>
/// <param name="Subject">The token's <c>sub</c>: the LangSmith user id.</param>
/// <param name="Email">The token's <c>email</c>, or null when absent or empty.</param>
/// <param name="Name">The token's <c>name</c>, or null when absent or empty.</param>
/// <param name="ExpiresAt">The token's <c>exp</c>.</param>
public sealed record VerifiedUser(string Subject, string? Email, string? Name, DateTimeOffset ExpiresAt);
