namespace Sandbox.AgentTools.Tests;

public sealed class MediaTypesTests
{
    [Fact]
    public void FromContent_RecognizesImagesAndArchives()
    {
        Assert.Equal("image/png", MediaTypes.FromContent(TestImages.Png));
        Assert.Equal("image/jpeg", MediaTypes.FromContent([0xFF, 0xD8, 0xFF, 0xE0]));
        Assert.Equal("application/zip", MediaTypes.FromContent("PK\x03\x04rest"u8));
        Assert.Null(MediaTypes.FromContent("plain text"u8));
    }

    [Fact]
    public void LooksLikeText_AcceptsUtf8_AndToleratesACutCharacterAtTheEnd()
    {
        byte[] text = "héllo"u8.ToArray();
        Assert.True(ReadFileFunction.LooksLikeText(text, out int full));
        Assert.Equal(text.Length, full);
        Assert.True(ReadFileFunction.LooksLikeText(text.AsSpan(0, 2), out int cut));
        Assert.Equal(1, cut);
        Assert.False(ReadFileFunction.LooksLikeText([0x00, 0x01, 0x02], out _));
        Assert.False(ReadFileFunction.LooksLikeText(TestImages.Png, out _));
    }
}
