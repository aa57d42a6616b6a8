using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Samples.Tests;

/// <summary>A strict PNG reader for assertions: signature, chunk CRCs, IHDR, and IDAT that inflates to exactly the image size.</summary>
internal static class PngFile
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static (int Width, int Height) Validate(byte[] data)
    {
        Assert.True(data.Length > 8 && data.AsSpan(0, 8).SequenceEqual(Signature), "not a PNG: bad signature");
        int offset = 8, width = 0, height = 0, bitDepth = 0, colorType = 0;
        bool sawEnd = false;
        using var idat = new MemoryStream();
        while (offset < data.Length && !sawEnd)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(offset, 4));
            string type = Encoding.ASCII.GetString(data, offset + 4, 4);
            ReadOnlySpan<byte> body = data.AsSpan(offset + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(offset + 8 + length, 4));
            Assert.True(Crc32(data.AsSpan(offset + 4, length + 4)) == crc, $"PNG chunk {type} has a bad CRC");
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(body[..4]);
                    height = BinaryPrimitives.ReadInt32BigEndian(body.Slice(4, 4));
                    bitDepth = body[8];
                    colorType = body[9];
                    break;
                case "IDAT":
                    idat.Write(body);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
            }

            offset += 12 + length;
        }

        Assert.True(sawEnd, "PNG has no IEND chunk");
        Assert.True(width > 0 && height > 0, "PNG has no valid IHDR");
        int channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => 0 };
        if (bitDepth == 8 && channels > 0)
        {
            idat.Position = 0;
            using var inflate = new ZLibStream(idat, CompressionMode.Decompress);
            using var pixels = new MemoryStream();
            inflate.CopyTo(pixels);
            Assert.Equal((long)height * (1 + (width * channels)), pixels.Length);
        }

        return (width, height);
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
