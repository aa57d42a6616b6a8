using System.Collections.Concurrent;

namespace Sandbox.Server.Networking.Services;

/// <summary>
/// Login grants of service URLs (access <c>restricted</c>/<c>workspace</c>, delta §4.5), per box and port. Locally
/// the workspace user is whoever holds the server's API key, so both modes admit the same people.
/// </summary>
internal sealed class ServiceGrantStore
{
    private readonly ConcurrentDictionary<(string BoxId, int Port), ServiceGrant> _grants = new();

    public ServiceGrant? Find(string boxId, int port) => _grants.TryGetValue((boxId, port), out var grant) ? grant : null;

    public void Set(string boxId, int port, ServiceGrant grant) => _grants[(boxId, port)] = grant;

    public bool Remove(string boxId, int port) => _grants.TryRemove((boxId, port), out _);

    /// <summary>Forgets every grant of a deleted box.</summary>
    public void RemoveBox(string boxId)
    {
        foreach (var key in _grants.Keys.Where(k => k.BoxId == boxId))
        {
            _grants.TryRemove(key, out _);
        }
    }
}
