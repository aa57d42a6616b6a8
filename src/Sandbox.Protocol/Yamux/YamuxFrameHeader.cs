using System.Buffers.Binary;

namespace Sandbox.Protocol;

/// <summary>The 12-byte yamux frame header: version, type, flags, stream id, length — all big-endian (spec 8.6.2).</summary>
internal readonly record struct YamuxFrameHeader(YamuxFrameType Type, YamuxFlags Flags, uint StreamId, uint Length)
{
    /// <summary>Size of an encoded header.</summary>
    public const int Size = 12;

    /// <summary>The only protocol version.</summary>
    public const byte ProtocolVersion = 0;

    /// <summary>Writes the header into the first 12 bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        destination[0] = ProtocolVersion;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Flags);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StreamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Length);
    }

    /// <summary>Decodes a header; throws <see cref="InvalidDataException"/> on an unknown version or type.</summary>
    public static YamuxFrameHeader Read(ReadOnlySpan<byte> source)
    {
        if (source[0] != ProtocolVersion)
        {
            throw new InvalidDataException($"yamux: unsupported protocol version {source[0]}.");
        }

        if (source[1] > (byte)YamuxFrameType.GoAway)
        {
            throw new InvalidDataException($"yamux: unknown frame type {source[1]}.");
        }

        return new YamuxFrameHeader(
            (YamuxFrameType)source[1],
            (YamuxFlags)BinaryPrimitives.ReadUInt16BigEndian(source[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[8..]));
    }
}
