namespace Sandbox.AgentTools.Tests;

public sealed class MarkerScannerTests
{
    private const string Marker = "\u001eSANDBOX-abc\u001e";

    [Fact]
    public void SplitsOutputFromStatus_WhateverTheChunking()
    {
        string stream = "line 1\nline 2 without newline" + "\n" + Marker + "{\"status\":\"ok\"}\n";
        for (int size = 1; size <= stream.Length; size++)
        {
            var sink = new HeadTailBuffer(1024, 1024);
            var scanner = new MarkerScanner(Marker, sink);
            for (int i = 0; i < stream.Length; i += size)
            {
                scanner.Feed(stream.Substring(i, Math.Min(size, stream.Length - i)));
            }

            Assert.True(scanner.Completed, $"chunk size {size}");
            Assert.Equal("{\"status\":\"ok\"}", scanner.Status);
            Assert.Equal("line 1\nline 2 without newline", sink.ToTruncatedText().Text);
        }
    }

    [Fact]
    public void TextThatOnlyStartsLikeTheMarker_IsPassedThrough()
    {
        var sink = new HeadTailBuffer(1024, 1024);
        var scanner = new MarkerScanner(Marker, sink);
        scanner.Feed("a\n\u001eSANDBOX-ab");
        scanner.Feed("X still output\n");
        Assert.False(scanner.Completed);
        scanner.Feed("\n" + Marker + "\n");
        Assert.True(scanner.Completed);
        Assert.Equal("a\n\u001eSANDBOX-abX still output\n", sink.ToTruncatedText().Text);
        Assert.Equal("", scanner.Status);
    }

    [Fact]
    public void ForwardsExactlyTheUserOutput_NeverTheMarker_WhateverTheChunking()
    {
        string stream = "line 1\nline 2\n" + "\n" + Marker + "{\"status\":\"ok\"}\n" + "after the marker\n";
        for (int size = 1; size <= stream.Length; size++)
        {
            var sink = new HeadTailBuffer(1024, 1024);
            var forwarded = new List<string>();
            var scanner = new MarkerScanner(Marker, sink, forwarded.Add);
            for (int i = 0; i < stream.Length; i += size)
            {
                scanner.Feed(stream.Substring(i, Math.Min(size, stream.Length - i)));
            }

            Assert.True(scanner.Completed, $"chunk size {size}");
            Assert.Equal("line 1\nline 2\n", string.Concat(forwarded));
            Assert.All(forwarded, text => Assert.DoesNotContain('\u001e', text));
            Assert.DoesNotContain("", forwarded);
        }
    }

    [Fact]
    public void ForwardsText_AsSoonAsItCannotBeTheMarker()
    {
        var forwarded = new List<string>();
        var scanner = new MarkerScanner(Marker, new HeadTailBuffer(1024, 1024), forwarded.Add);
        scanner.Feed("first\nsecond");
        Assert.Equal(["first\nsecond"], forwarded);
        scanner.Feed("\n");
        Assert.Equal(["first\nsecond"], forwarded); // a trailing newline may start the marker line: held back
        scanner.Feed("third");
        Assert.Equal(["first\nsecond", "\nthird"], forwarded);
    }
}
