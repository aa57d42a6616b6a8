using System.Text.Json;
using Sandbox.Protocol;

namespace Sandbox.Server.Runtime;

/// <summary>Writes JSON files atomically (temp file + rename) so a crash of the server never leaves half a record.</summary>
internal static class AtomicFile
{
    public static void WriteJson<T>(string path, T value)
    {
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096))
        {
            JsonSerializer.Serialize(stream, value, SandboxJson.Options);
        }

        File.Move(temp, path, overwrite: true);
    }

    public static void WriteAllBytes(string path, byte[] bytes)
    {
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    public static T? ReadJson<T>(string path)
    {
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<T>(stream, SandboxJson.Options);
    }
}
