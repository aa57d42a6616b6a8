using System.IO.Pipelines;
using System.Text;
using Sandbox.Server.Files;

namespace Sandbox.Server.Tests.Files;

public sealed class UploadBodyReaderTests : IDisposable
{
    private const string Boundary = "----formdata-undici-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("upload-reader-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Content that keeps almost matching the delimiter: CR, CRLF, CRLF--, CRLF--&lt;boundary prefix&gt;.</summary>
    private static byte[] TrickyContent()
    {
        var random = new Random(12);
        var content = new List<byte>();
        // "X" ends the longest near-match: random bytes after it could otherwise complete the delimiter.
        string[] fragments = ["\r", "\r\n", "\r\n-", "\r\n--", "\r\n--" + Boundary[..10], "\r\n--" + Boundary[..^1] + "X", "--" + Boundary];
        for (int i = 0; i < 400; i++)
        {
            byte[] noise = new byte[random.Next(0, 700)];
            random.NextBytes(noise);
            content.AddRange(noise);
            content.AddRange(Encoding.ASCII.GetBytes(fragments[i % fragments.Length]));
        }

        return [.. content];
    }

    private static byte[] Multipart(byte[] file, bool preamble = true, bool close = true)
    {
        var body = new MemoryStream();
        void Text(string s) => body.Write(Encoding.UTF8.GetBytes(s));
        if (preamble)
        {
            Text("This is the preamble.\r\n");
        }

        Text($"--{Boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nnot the file\r\n");
        Text($"--{Boundary}  \r\ncontent-disposition: form-data; name=\"file\"; filename=\"file\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.Write(file);
        if (close)
        {
            Text($"\r\n--{Boundary}--\r\nepilogue");
        }

        return body.ToArray();
    }

    private async Task<(byte[] Written, long Count)> ReadAsync(byte[] body, int chunk, string? boundary = Boundary, long maxBytes = long.MaxValue)
    {
        // The writer stalls once 64 KiB are unconsumed, as a server stops reading its socket: the reader collects at
        // most 16 KiB before it writes, so it never waits for bytes held back.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, minimumSegmentSize: Math.Min(Math.Max(chunk, 16), 4096)));
        var writing = Task.Run(async () =>
        {
            for (int offset = 0; offset < body.Length; offset += chunk)
            {
                if ((await pipe.Writer.WriteAsync(body.AsMemory(offset, Math.Min(chunk, body.Length - offset)))).IsCompleted)
                {
                    break;
                }
            }

            await pipe.Writer.CompleteAsync();
        });
        var reader = new UploadBodyReader(pipe.Reader, boundary, 16 * 1024);
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        long count;
        try
        {
            Assert.True(await reader.MoveToFilePartAsync(CancellationToken.None));
            using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
            count = await reader.CopyToAsync(handle, maxBytes, () => new InvalidOperationException("too large"), CancellationToken.None);
        }
        finally
        {
            await pipe.Reader.CompleteAsync(); // a rejected body is not read to its end: release the writer
            await writing;
        }

        return (await File.ReadAllBytesAsync(path), count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public async Task FilePart_IsWrittenByteForByte_WhateverPiecesTheBodyArrivesIn(int chunk)
    {
        byte[] content = TrickyContent();
        var (written, count) = await ReadAsync(Multipart(content), chunk);
        Assert.Equal(content.Length, count);
        Assert.Equal(content, written);
    }

    [Fact]
    public async Task BodyOpeningWithTheBoundary_AndAnEmptyFile_AreAccepted()
    {
        var (written, count) = await ReadAsync(Multipart([], preamble: false), 3);
        Assert.Equal(0, count);
        Assert.Empty(written);
    }

    [Fact]
    public async Task RawBody_IsTheFile()
    {
        byte[] content = TrickyContent();
        var (written, _) = await ReadAsync(content, 5000, boundary: null);
        Assert.Equal(content, written);
    }

    [Fact]
    public async Task BodyEndingBeforeTheClosingBoundary_IsRejected()
    {
        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(Multipart(TrickyContent(), close: false), 4096));
    }

    [Fact]
    public async Task ContentOverTheLimit_ThrowsTheCallersError()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => ReadAsync(Multipart(new byte[10_000]), 4096, maxBytes: 9_999));
        var (_, count) = await ReadAsync(Multipart(new byte[10_000]), 4096, maxBytes: 10_000);
        Assert.Equal(10_000, count);
    }

    [Fact]
    public async Task AfterARejection_TheBodyCanStillBeDrained()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await pipe.Writer.WriteAsync(new byte[100_000]);
        var reader = new UploadBodyReader(pipe.Reader, boundary: null, 1024);
        Assert.True(await reader.MoveToFilePartAsync(CancellationToken.None));
        string path = Path.Combine(_dir, "rejected");
        using (var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write))
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => reader.CopyToAsync(handle, 10, () => new InvalidOperationException("too large"), CancellationToken.None));
        }

        // The server drains what is left of a rejected body; a read still pending would make that throw.
        await pipe.Writer.CompleteAsync();
        var rest = await pipe.Reader.ReadAsync();
        Assert.Equal(100_000, rest.Buffer.Length);
        pipe.Reader.AdvanceTo(rest.Buffer.End);
    }

    [Fact]
    public async Task BodyWithoutAFilePart_HasNoFile()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--{Boundary}--\r\n"));
        await pipe.Writer.CompleteAsync();
        Assert.False(await new UploadBodyReader(pipe.Reader, Boundary).MoveToFilePartAsync(CancellationToken.None));
    }

    [Fact]
    public async Task HugeHeaderBlock_AndOverlongBoundary_AreRejected()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes($"--{Boundary}\r\nX-Pad: " + new string('a', 40_000)));
        await Assert.ThrowsAsync<InvalidDataException>(() => new UploadBodyReader(pipe.Reader, Boundary).MoveToFilePartAsync(CancellationToken.None));
        Assert.Throws<InvalidDataException>(() => new UploadBodyReader(new Pipe().Reader, new string('b', UploadBodyReader.MaxBoundaryLength + 1)));
    }
}
