using System.Text;
using Sandbox.Server.Commands;

namespace Sandbox.Server.Tests.Commands;

public sealed class OutputBufferTests
{
    [Fact]
    public void Buffer_GrowsOnDemand_ThenKeepsOnlyTheNewestBytes_AddressedByAbsoluteOffsets()
    {
        var buffer = new OutputBuffer(10_000);
        var all = new MemoryStream();
        var random = new Random(42);
        for (int i = 0; i < 500; i++)
        {
            byte[] chunk = new byte[random.Next(1, 300)];
            random.NextBytes(chunk);
            buffer.Append(chunk);
            all.Write(chunk);
        }

        byte[] expected = all.ToArray();
        Assert.Equal(expected.Length, buffer.End);
        Assert.Equal(expected.Length - 10_000, buffer.Start);
        byte[] read = new byte[20_000];
        int count = buffer.Read(0, read, out long actual, out bool completed);
        Assert.False(completed);
        Assert.Equal(buffer.Start, actual);
        Assert.Equal(10_000, count);
        Assert.Equal(expected[^10_000..], read[..count]);

        count = buffer.Read(expected.Length - 5, read, out actual, out _);
        Assert.Equal(expected.Length - 5, actual);
        Assert.Equal(expected[^5..], read[..count]);
    }

    [Fact]
    public void SmallOutput_DoesNotAllocateTheWholeBound()
    {
        var buffer = new OutputBuffer(4 * 1024 * 1024);
        long before = GC.GetAllocatedBytesForCurrentThread();
        buffer.Append("hello"u8);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
        byte[] read = new byte[16];
        Assert.Equal(5, buffer.Read(0, read, out _, out _));
    }

    [Fact]
    public void HugeAppend_KeepsTheTail()
    {
        var buffer = new OutputBuffer(100);
        byte[] data = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        buffer.Append(data);
        byte[] read = new byte[100];
        Assert.Equal(100, buffer.Read(0, read, out long actual, out _));
        Assert.Equal(900, actual);
        Assert.Equal(data[900..], read);
    }

    [Theory]
    [InlineData("abc", 3)]
    [InlineData("ab\u00e9", 4)]
    public void CompletePrefix_KeepsWholeCharacters(string text, int expected)
    {
        Assert.Equal(expected, Utf8Chunker.CompletePrefixLength(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void CompletePrefix_CutsBeforeAPartialCharacter()
    {
        byte[] emoji = Encoding.UTF8.GetBytes("a😀");
        for (int cut = 2; cut < emoji.Length; cut++)
        {
            Assert.Equal(1, Utf8Chunker.CompletePrefixLength(emoji.AsSpan(0, cut)));
        }

        Assert.Equal(5, Utf8Chunker.CompletePrefixLength(emoji));
        Assert.Equal(2, Utf8Chunker.LeadingContinuationBytes(emoji.AsSpan(3)));
    }
}
