using System.Text;
using System.Text.Json;
using Sandbox.Client;
using Sandbox.Protocol;
using Sandbox.Server.Commands;

namespace Sandbox.Server.Tests.Commands;

/// <summary>Output frames written from bytes (server) and read back as bytes (client) against the serializer's own.</summary>
public sealed class OutputFramingTests
{
    public static TheoryData<string> Texts =>
    [
        "",
        "hello world\n",
        "quote \" backslash \\ tab \t cr \r nul \0 bell \a del \u007f",
        "héllo wörld — 😀 中文 \u2028 \u2029 </script> & < > ' +",
        new string('x', 100_000) + "\n" + new string('é', 50_000),
    ];

    [Theory]
    [MemberData(nameof(Texts))]
    public void FrameFromBytes_IsTheFrameTheSerializerWrites_AndTheClientReadsTheSameBytesBack(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        using var writer = new OutputFrameWriter();
        byte[] frame = writer.Write("stdout"u8, utf8, 1234).ToArray();

        byte[] expected = JsonSerializer.SerializeToUtf8Bytes(
            new ExecutionServerFrame { Type = ExecutionFrameTypes.Stdout, Data = text, Offset = 1234 }, SandboxJson.Options);
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(frame));

        var parsed = ExecutionStream.Parse(frame, frame.Length, out var output);
        Assert.Equal(ExecutionFrameTypes.Stdout, parsed!.Type);
        Assert.Equal(1234, parsed.Offset);
        Assert.Equal(utf8, output.Span.ToArray());
    }

    [Fact]
    public void InvalidUtf8_BecomesReplacementCharacters_LikeDecodingWould()
    {
        byte[] bytes = [(byte)'a', 0xFF, (byte)'b', 0xC3, (byte)'c', 0xE2, 0x82];
        using var writer = new OutputFrameWriter();
        var frame = writer.Write("stderr"u8, bytes, 0).ToArray();

        var parsed = JsonSerializer.Deserialize<ExecutionServerFrame>(frame, SandboxJson.Options)!;
        Assert.Equal(new UTF8Encoding(false, false).GetString(bytes), parsed.Data);
        Assert.Equal("a\uFFFDb\uFFFDc\uFFFD", parsed.Data);
    }

    [Theory]
    [InlineData("{\"offset\":7,\"data\":\"\\ud83d\\ude00 \\\"x\\\"\",\"type\":\"stdout\"}", "stdout", "😀 \"x\"", 7L)]
    [InlineData("{\"Type\":\"stderr\",\"Data\":\"case\",\"Offset\":3}", "stderr", "case", 3L)]
    [InlineData("{\"type\":\"stdout\",\"data\":\"no offset\"}", "stdout", "no offset", null)]
    [InlineData("{\"type\":\"stdout\",\"data\":\"extra\",\"offset\":1,\"future\":[1,{\"a\":2}]}", "stdout", "extra", 1L)]
    public void Client_ReadsOutputFramesInAnyShapeTheSerializerAccepts(string json, string type, string data, long? offset)
    {
        byte[] message = Encoding.UTF8.GetBytes(json);
        var frame = ExecutionStream.Parse(message, message.Length, out var output);
        Assert.Equal(type, frame!.Type);
        Assert.Null(frame.Data);
        Assert.Equal(offset, frame.Offset);
        Assert.Equal(data, Encoding.UTF8.GetString(output.Span));
    }

    [Fact]
    public void Client_ReadsOtherFramesThroughTheSerializer_AndRejectsMalformedOnes()
    {
        byte[] exit = "{\"type\":\"exit\",\"exit_code\":3}"u8.ToArray();
        var frame = ExecutionStream.Parse(exit, exit.Length, out var output);
        Assert.Equal(3, frame!.ExitCode);
        Assert.Null(output.Array);

        byte[] broken = "{\"type\":\"stdout\",\"data\":\"unterminated"u8.ToArray();
        Assert.ThrowsAny<JsonException>(() => ExecutionStream.Parse(broken, broken.Length, out _));
    }

    [Fact]
    public void Collector_JoinsSegments_WithCharactersSplitAcrossThem()
    {
        var collector = new Utf8Collector();
        var expected = new StringBuilder();
        var random = new Random(7);
        string[] pieces = ["a", "é", "€", "😀", "\n"];
        var pending = new List<byte>();
        for (int i = 0; i < 400_000; i++)
        {
            string piece = pieces[random.Next(pieces.Length)];
            expected.Append(piece);
            pending.AddRange(Encoding.UTF8.GetBytes(piece));
            if (pending.Count > random.Next(1, 5000))
            {
                int cut = random.Next(pending.Count + 1); // frames may end anywhere inside a character here
                collector.Append(pending.GetRange(0, cut).ToArray());
                pending.RemoveRange(0, cut);
            }
        }

        collector.Append(pending.ToArray());
        Assert.Equal(expected.ToString(), collector.Build());
    }
}
