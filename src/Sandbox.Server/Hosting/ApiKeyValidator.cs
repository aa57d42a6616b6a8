using System.Security.Cryptography;
using System.Text;
using Sandbox.Server.Networking;

namespace Sandbox.Server;

/// <summary>Constant-time check against the server's API key (adapter for the networking features).</summary>
internal sealed class ApiKeyValidator : IApiKeyValidator
{
    private readonly byte[] _key;

    public ApiKeyValidator(ServerState state) => _key = Encoding.UTF8.GetBytes(state.ApiKey);

    public bool IsValid(string? candidate) =>
        !string.IsNullOrEmpty(candidate) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _key);
}
