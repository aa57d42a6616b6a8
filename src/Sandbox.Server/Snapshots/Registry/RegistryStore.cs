using System.Collections.Concurrent;
using System.Text.Json;
using Sandbox.Protocol;
using Sandbox.Server.Errors;

namespace Sandbox.Server.Snapshots.Registry;

/// <summary>
/// Registries (spec §6.17, delta §4.7) kept in <c>DATA/registries</c> (folder 0700, one file 0600 per registry). Passwords are
/// stored for pulls only: never returned, logged or passed into a box.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class RegistryStore
{
    private static readonly JsonSerializerOptions FileJson = new(SandboxJson.Options) { WriteIndented = false };
    private readonly string _folder;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, RegistryRecord> _registries = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public RegistryStore(string dataRoot, TimeProvider time)
    {
        _folder = Path.Combine(dataRoot, "registries");
        _time = time;
        Directory.CreateDirectory(_folder);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        foreach (string file in Directory.GetFiles(_folder, "*.json"))
        {
            try
            {
                if (JsonSerializer.Deserialize<RegistryRecord>(File.ReadAllBytes(file), FileJson) is { Id.Length: > 0 } record)
                {
                    _registries[record.Id] = record;
                }
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // An unreadable registry file is skipped; it is never echoed (it may hold a password).
            }
        }
    }

    public RegistryRecord? Find(string idOrName) =>
        _registries.TryGetValue(idOrName, out var byId) ? byId : _registries.Values.FirstOrDefault(r => r.Name == idOrName);

    public RegistryRecord Get(string idOrName) =>
        Find(idOrName) ?? throw NotFoundException.Registry(idOrName);

    public IReadOnlyList<RegistryRecord> List() => [.. _registries.Values.OrderBy(r => r.CreatedAt)];

    public RegistryRecord Create(RegistryRequest request)
    {
        string name = RequireName(request.Name);
        string url = RequireUrl(request.Url);
        ValidateAuth(request);
        var now = _time.GetUtcNow();
        var record = new RegistryRecord
        {
            Id = Guid.NewGuid().ToString(),
            Name = name,
            Url = url,
            Username = Empty(request.Username),
            Password = Empty(request.Password),
            CreatedAt = now,
            UpdatedAt = now,
        };
        lock (_gate)
        {
            if (Find(name) is not null)
            {
                throw new ConflictException($"Registry name '{name}' already in use");
            }

            Write(record);
            _registries[record.Id] = record;
        }

        return record;
    }

    public RegistryRecord Update(string idOrName, RegistryRequest request)
    {
        lock (_gate)
        {
            var current = Get(idOrName);
            ValidateAuth(request);
            var updated = new RegistryRecord
            {
                Id = current.Id,
                Name = request.Name is null ? current.Name : RequireName(request.Name),
                Url = request.Url is null ? current.Url : RequireUrl(request.Url),
                Username = request.Username is null ? current.Username : Empty(request.Username),
                Password = request.Password is null ? current.Password : Empty(request.Password),
                AuthType = current.AuthType,
                CreatedAt = current.CreatedAt,
                UpdatedAt = _time.GetUtcNow(),
            };
            if (updated.Name != current.Name && Find(updated.Name) is not null)
            {
                throw new ConflictException($"Registry name '{updated.Name}' already in use");
            }

            Write(updated);
            _registries[updated.Id] = updated;
            return updated;
        }
    }

    public void Delete(string idOrName)
    {
        lock (_gate)
        {
            var record = Get(idOrName);
            File.Delete(PathOf(record.Id));
            _registries.TryRemove(record.Id, out _);
        }
    }

    private string PathOf(string id) => Path.Combine(_folder, id + ".json");

    private void Write(RegistryRecord record)
    {
        string path = PathOf(record.Id);
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        {
            JsonSerializer.Serialize(stream, record, FileJson);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string RequireName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 128 || name.Any(c => char.IsControl(c) || c == '/'))
        {
            throw new InvalidRequestException("name", "name is required: at most 128 characters without '/' or control characters");
        }

        return name;
    }

    private static string RequireUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new InvalidRequestException("url", "url is required (e.g. https://registry.example.com or 127.0.0.1:5000)");
        }

        var endpoint = RegistryEndpoint.Parse(url);
        if (endpoint.Scheme is not ("http" or "https") || endpoint.Host.Length == 0 || url.Any(char.IsWhiteSpace))
        {
            throw new InvalidRequestException("url", $"url '{url}' is not a registry address (https://host[:port] or host[:port])");
        }

        return url.Trim();
    }

    private static void ValidateAuth(RegistryRequest request)
    {
        if (request.AuthType is { } type && type != "DOCKER_CONFIG")
        {
            throw new InvalidRequestException("auth_type", $"auth_type '{type}' is not supported by the local sandbox server (it has no cloud identity); use DOCKER_CONFIG with username and password");
        }

        if (request.AwsRoleArn is not null)
        {
            throw new InvalidRequestException("aws_role_arn", "aws_role_arn is not supported by the local sandbox server");
        }

        if (string.IsNullOrEmpty(request.Username) != string.IsNullOrEmpty(request.Password) && request.Username is not null && request.Password is not null)
        {
            throw new InvalidRequestException(string.IsNullOrEmpty(request.Username) ? "username" : "password", "username and password go together");
        }
    }
}
