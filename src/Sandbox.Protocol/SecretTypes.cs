namespace Sandbox.Protocol;

/// <summary>The kinds of <see cref="SecretValue"/>.</summary>
public static class SecretTypes
{
    /// <summary>A reference to a named secret held by the server, written <c>{NAME}</c>.</summary>
    public const string WorkspaceSecret = "workspace_secret";

    /// <summary>A write-only literal.</summary>
    public const string Opaque = "opaque";

    /// <summary>A literal that may be echoed back.</summary>
    public const string Plaintext = "plaintext";
}
