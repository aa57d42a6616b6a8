namespace Sandbox.AgentTools.Tests;

public sealed class HeadTailBufferTests
{
    [Fact]
    public void SmallOutput_IsKeptWhole()
    {
        var buffer = new HeadTailBuffer(16, 16);
        buffer.Append("hello ");
        buffer.Append("world");
        TruncatedText text = buffer.ToTruncatedText();
        Assert.Equal("hello world", text.Text);
        Assert.Equal(11, text.TotalBytes);
        Assert.False(text.Truncated);
    }

    [Fact]
    public void LargeOutput_KeepsHeadAndTail_AndCountsEveryByte()
    {
        var buffer = new HeadTailBuffer(10, 10);
        for (int i = 0; i < 10_000; i++)
        {
            buffer.Append(i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture) + "\n");
        }

        TruncatedText text = buffer.ToTruncatedText();
        Assert.True(text.Truncated);
        Assert.Equal(60_000, text.TotalBytes);
        Assert.StartsWith("00000\n0000", text.Text, StringComparison.Ordinal);
        Assert.EndsWith("\n998\n09999\n", text.Text, StringComparison.Ordinal);
        Assert.Contains("[... 59980 bytes omitted ...]", text.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void MultiByteCharacters_AreCountedInUtf8_AndNeverSplit()
    {
        var buffer = new HeadTailBuffer(5, 5);
        buffer.Append(string.Concat(Enumerable.Repeat("é😀", 1000)));
        TruncatedText text = buffer.ToTruncatedText();
        Assert.Equal(6000, text.TotalBytes);
        Assert.True(text.Truncated);
        Assert.DoesNotContain('\uFFFD', text.Text);
        Assert.StartsWith("é\n[... 5994 bytes omitted ...]\n", text.Text, StringComparison.Ordinal);
        Assert.EndsWith("😀", text.Text, StringComparison.Ordinal);
    }
}
