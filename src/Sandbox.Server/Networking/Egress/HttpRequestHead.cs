using System.Text;

namespace Sandbox.Server.Networking.Egress;

/// <summary>An HTTP/1.x request line and headers as read off a proxy connection (at most 64 KiB).</summary>
internal sealed class HttpRequestHead
{
    private const int MaxHeadBytes = 64 * 1024;

    private HttpRequestHead(string method, string target, string version, List<KeyValuePair<string, string>> headers)
    {
        Method = method;
        Target = target;
        Version = version;
        Headers = headers;
    }

    public string Method { get; }

    public string Target { get; set; }

    public string Version { get; }

    public List<KeyValuePair<string, string>> Headers { get; }

    public string? this[string name] => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Reads a head; returns null at end of stream or on a malformed head, with any bytes read past it.</summary>
    public static async Task<(HttpRequestHead? Head, byte[] Leftover)> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[8 * 1024];
        var filled = 0;
        int end;
        while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length >= MaxHeadBytes)
                {
                    return (null, []);
                }

                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var n = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return (null, []);
            }

            filled += n;
        }

        var lines = Encoding.Latin1.GetString(buffer, 0, end).Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return (null, []);
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return (null, []);
            }

            headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }

        return (new HttpRequestHead(parts[0], parts[1], parts[2], headers), buffer[(end + 4)..filled]);
    }

    public void Remove(string name) => Headers.RemoveAll(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));

    public void Set(string name, string value)
    {
        Remove(name);
        Headers.Add(new(name, value));
    }

    public byte[] ToBytes()
    {
        var builder = new StringBuilder();
        builder.Append(Method).Append(' ').Append(Target).Append(' ').Append(Version).Append("\r\n");
        foreach (var (name, value) in Headers)
        {
            builder.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        builder.Append("\r\n");
        return Encoding.Latin1.GetBytes(builder.ToString());
    }
}
