using System.Buffers.Binary;
using System.Text;

namespace Sandbox.Server.Commands;

/// <summary>
/// The messages between the server and a box's command spawner (<c>sandbox-box-exec --serve</c>, whose source in
/// Native/box-exec.c documents the same format): SOCK_SEQPACKET, one message per event, native byte order (both ends
/// run on this host). Our own host-side protocol, hence hand-written, with every length checked on both sides.
/// </summary>
internal static class SpawnerWire
{
    public const int Ready = 0;
    public const int Start = 1;
    public const int Started = 2;
    public const int Failed = 3;
    public const int Exited = 4;

    /// <summary>The largest start request the spawner accepts (its receive buffer).</summary>
    public const int MaxMessage = 1 << 20;

    /// <summary>The most cgroup files a start request may carry.</summary>
    public const int MaxCgroupFiles = 16;

    private const int HeaderBytes = 32;
    private const int ReplyHeaderBytes = 16;

    /// <summary>One message from the spawner.</summary>
    public readonly record struct Reply(int Type, uint Id, int A, int B, string Text);

    /// <summary>
    /// A START request: header, then the working directory, the arguments and the environment as NUL-terminated
    /// strings filling the rest of the message. Null when it would be larger than <see cref="MaxMessage"/>.
    /// </summary>
    /// <exception cref="CommandStartException">A string contains a NUL character.</exception>
    public static byte[]? EncodeStart(uint id, int uid, int gid, int cgroupFiles, string cwd, IReadOnlyList<string> argv,
        IReadOnlyCollection<KeyValuePair<string, string>> environment)
    {
        var strings = new List<string>(1 + argv.Count + environment.Count) { cwd };
        strings.AddRange(argv);
        strings.AddRange(environment.Select(e => e.Key + "=" + e.Value));
        long size = HeaderBytes;
        foreach (string s in strings)
        {
            if (s.Contains('\0', StringComparison.Ordinal))
            {
                throw new CommandStartException("The command, its working directory or its environment contains a NUL character.");
            }

            size += Encoding.UTF8.GetByteCount(s) + 1;
        }

        if (size > MaxMessage)
        {
            return null;
        }

        byte[] message = new byte[size];
        Span<byte> header = message.AsSpan(0, HeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(header, Start);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], id);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], uid);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], gid);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], cgroupFiles);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], argv.Count);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], environment.Count);
        int at = HeaderBytes;
        foreach (string s in strings)
        {
            at += Encoding.UTF8.GetBytes(s, message.AsSpan(at));
            message[at++] = 0;
        }

        return message;
    }

    /// <summary>The hello the server sends once it holds its end of the channel.</summary>
    public static byte[] Hello() => new byte[ReplyHeaderBytes];

    /// <summary>Decodes a message from the spawner; false for anything malformed.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> message, out Reply reply)
    {
        reply = default;
        if (message.Length < ReplyHeaderBytes || message.Length > ReplyHeaderBytes + 255)
        {
            return false;
        }

        int type = BinaryPrimitives.ReadInt32LittleEndian(message);
        if (type is not (Ready or Started or Failed or Exited))
        {
            return false;
        }

        reply = new Reply(type, BinaryPrimitives.ReadUInt32LittleEndian(message[4..]), BinaryPrimitives.ReadInt32LittleEndian(message[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(message[12..]), Encoding.UTF8.GetString(message[ReplyHeaderBytes..]));
        return true;
    }

    /// <summary>An exit code from a wait status: the exit status, or 128 + the signal number (as a shell reports it).</summary>
    public static int ExitCode(int waitStatus) => (waitStatus & 0x7f) == 0 ? (waitStatus >> 8) & 0xff : 128 + (waitStatus & 0x7f);
}
