using System.Text;

namespace Sandbox.Server.Commands;

/// <summary>Cuts raw output into chunks that never split a multi-byte UTF-8 character.</summary>
internal static class Utf8Chunker
{
    private static readonly Encoding Decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Number of leading continuation bytes to skip (a resume point inside a character after eviction).</summary>
    public static int LeadingContinuationBytes(ReadOnlySpan<byte> data)
    {
        int n = 0;
        while (n < data.Length && n < 3 && (data[n] & 0xC0) == 0x80)
        {
            n++;
        }

        return n;
    }

    /// <summary>Length of the longest prefix that does not end inside an incomplete UTF-8 sequence.</summary>
    public static int CompletePrefixLength(ReadOnlySpan<byte> data)
    {
        int length = data.Length;
        for (int back = 1; back <= Math.Min(4, length); back++)
        {
            byte b = data[length - back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // continuation byte: keep looking for the lead byte
            }

            int needed = (b & 0x80) == 0 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return needed > back ? length - back : length;
        }

        return length;
    }

    public static string Decode(ReadOnlySpan<byte> data) => Decoder.GetString(data);
}
