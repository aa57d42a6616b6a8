using System.Buffers.Binary;

namespace CodeInterpreterAgent.Output;

/// <summary>Reads the size of a PNG after checking its signature and the header chunk.</summary>
internal static class PngInfo
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static (int Width, int Height)? TryRead(ReadOnlySpan<byte> data)
    {
        if (data.Length < 33 || !data[..8].SequenceEqual(Signature) || !data.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            return null;
        }

        int width = BinaryPrimitives.ReadInt32BigEndian(data.Slice(16, 4));
        int height = BinaryPrimitives.ReadInt32BigEndian(data.Slice(20, 4));
        return width > 0 && height > 0 ? (width, height) : null;
    }
}
