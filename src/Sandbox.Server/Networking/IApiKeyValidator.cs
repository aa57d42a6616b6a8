namespace Sandbox.Server.Networking;

/// <summary>Checks a candidate against the server's API key (constant-time). Implemented over the server core's key.</summary>
internal interface IApiKeyValidator
{
    /// <summary>Whether <paramref name="candidate"/> is the server's API key.</summary>
    bool IsValid(string? candidate);
}
