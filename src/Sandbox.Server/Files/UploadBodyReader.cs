using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Net.Http.Headers;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Files;

/// <summary>
/// Reads an upload body from the request's <see cref="PipeReader"/>: <c>multipart/form-data</c> with a <c>file</c> part
/// (spec §8.3) or, without a boundary, raw bytes. The file content goes from the received buffers straight to the box
/// file's descriptor with one positional vectored write (<c>pwritev</c>) per batch: no intermediate copy.
/// </summary>
/// <remarks>
/// Hand-written instead of ASP.NET's <c>MultipartReader</c>: that reader copies every byte through its own buffered
/// stream while it scans for the boundary, which cost more CPU than the rest of an upload together.
/// </remarks>
internal sealed class UploadBodyReader
{
    /// <summary>Longest boundary accepted (RFC 2046 allows 70 characters; some clients use a little more).</summary>
    public const int MaxBoundaryLength = 200;

    /// <summary>Bytes collected before a write when the server's request buffer allows it (a quarter of Kestrel's 1 MiB default).</summary>
    public const int DefaultBatchBytes = 256 * 1024;

    /// <summary>A part's header block larger than this is refused.</summary>
    private const int MaxHeaderBytes = 16 * 1024;

    private static ReadOnlySpan<byte> HeaderEnd => "\r\n\r\n"u8;

    private readonly PipeReader _reader;

    /// <summary>CRLF "--" boundary; null for a raw body.</summary>
    private readonly byte[]? _delimiter;

    private readonly List<ReadOnlyMemory<byte>> _pieces = [];

    /// <summary>
    /// Received bytes left unconsumed (and so collected) before one write. Must stay well below the size at which the
    /// server stops reading the socket for this request, or the reader would wait for data that never comes.
    /// </summary>
    private readonly int _batchBytes;

    /// <param name="reader">The request body.</param>
    /// <param name="boundary">The multipart boundary, or null when the body is the file itself.</param>
    /// <param name="batchBytes">Bytes to collect before a write; below the request buffer limit of the server.</param>
    public UploadBodyReader(PipeReader reader, string? boundary, int batchBytes = DefaultBatchBytes)
    {
        _reader = reader;
        _batchBytes = batchBytes;
        if (boundary is not null)
        {
            if (boundary.Length > MaxBoundaryLength || !Ascii.IsValid(boundary))
            {
                throw new InvalidDataException($"The multipart boundary must be at most {MaxBoundaryLength} ASCII characters");
            }

            _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        }
    }

    /// <summary>
    /// Moves to the content of the first part named <c>file</c> (or carrying a file name), skipping the preamble and any
    /// other part. False when the body has no such part.
    /// </summary>
    /// <exception cref="InvalidDataException">The body is not well-formed multipart.</exception>
    public async Task<bool> MoveToFilePartAsync(CancellationToken cancellationToken)
    {
        if (_delimiter is null)
        {
            return true;
        }

        if (!await SkipPreambleAsync(cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        while (await ReadPartHeadersAsync(cancellationToken).ConfigureAwait(false) is { } headers)
        {
            if (IsFilePart(headers))
            {
                return true;
            }

            await PumpAsync(null, long.MaxValue, null, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>
    /// Writes the current part's content (the whole body when raw) to <paramref name="target"/> from offset 0 and returns
    /// its length; throws <paramref name="tooLarge"/>'s exception as soon as more than <paramref name="maxBytes"/> arrived.
    /// </summary>
    /// <exception cref="InvalidDataException">The body ended before the part's closing boundary.</exception>
    public Task<long> CopyToAsync(SafeFileHandle target, long maxBytes, Func<Exception> tooLarge, CancellationToken cancellationToken) =>
        PumpAsync(target, maxBytes, tooLarge, cancellationToken);

    /// <summary>
    /// Finds <paramref name="delimiter"/> in <paramref name="buffer"/>: its offset, or -1. <paramref name="safe"/> is the
    /// number of leading bytes that cannot belong to a delimiter (everything before a partial match at the very end).
    /// </summary>
    internal static long IndexOf(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> delimiter, out long safe)
    {
        Span<byte> probe = stackalloc byte[delimiter.Length];
        long offset = 0;
        var segmentStart = buffer.Start;
        var next = segmentStart;
        while (buffer.TryGet(ref next, out var memory))
        {
            var span = memory.Span;
            int found = span.IndexOf(delimiter);
            if (found >= 0)
            {
                safe = offset + found;
                return safe;
            }

            // A delimiter can still start in the segment's last bytes and run on into the next segment (or past the data).
            for (int p = Math.Max(0, span.Length - delimiter.Length + 1); p < span.Length; p++)
            {
                int k = span[p..].IndexOf(delimiter[0]);
                if (k < 0)
                {
                    break;
                }

                p += k;
                var candidate = buffer.Slice(buffer.GetPosition(p, segmentStart));
                int n = (int)Math.Min(candidate.Length, delimiter.Length);
                candidate.Slice(0, n).CopyTo(probe);
                if (probe[..n].SequenceEqual(delimiter[..n]))
                {
                    safe = offset + p;
                    return n == delimiter.Length ? safe : -1;
                }
            }

            offset += span.Length;
            segmentStart = next;
        }

        safe = buffer.Length;
        return -1;
    }

    private static bool IsFilePart(List<KeyValuePair<string, string>> headers)
    {
        foreach (var (name, value) in headers)
        {
            if (name.Equals(HeaderNames.ContentDisposition, StringComparison.OrdinalIgnoreCase)
                && ContentDispositionHeaderValue.TryParse(value, out var disposition))
            {
                return HeaderUtilities.RemoveQuotes(disposition.Name).Equals("file", StringComparison.Ordinal)
                    || disposition.FileName.HasValue || disposition.FileNameStar.HasValue;
            }
        }

        return false;
    }

    /// <summary>Consumes everything up to and including the first boundary; the body may open with it (no CRLF before).</summary>
    private async Task<bool> SkipPreambleAsync(CancellationToken cancellationToken)
    {
        var dashBoundary = _delimiter.AsMemory(2);
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length < dashBoundary.Length && !result.IsCompleted)
            {
                _reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            if (StartsWith(buffer, dashBoundary.Span))
            {
                _reader.AdvanceTo(buffer.GetPosition(dashBoundary.Length));
                return true;
            }

            _reader.AdvanceTo(buffer.Start);
            break;
        }

        await PumpAsync(null, long.MaxValue, null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Reads what follows a boundary: <c>--</c> (the last one; returns null) or optional white space, CRLF, header lines
    /// and an empty line.
    /// </summary>
    private async Task<List<KeyValuePair<string, string>>?> ReadPartHeadersAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= 2 && StartsWith(buffer, "--"u8))
            {
                _reader.AdvanceTo(buffer.End);
                return null;
            }

            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> block, HeaderEnd, advancePastDelimiter: true))
            {
                string text = Encoding.UTF8.GetString(block);
                _reader.AdvanceTo(reader.Position);
                return ParseHeaders(text);
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new InvalidDataException("The multipart body ended inside a part's headers");
            }

            if (buffer.Length > MaxHeaderBytes)
            {
                throw new InvalidDataException($"A multipart part's headers exceed {MaxHeaderBytes} bytes");
            }
        }
    }

    /// <summary>The text between a boundary and the empty line: transport padding, then one header per line.</summary>
    private static List<KeyValuePair<string, string>> ParseHeaders(string block)
    {
        var lines = block.Split("\r\n");
        if (!string.IsNullOrWhiteSpace(lines[0]))
        {
            throw new InvalidDataException("Unexpected text after a multipart boundary");
        }

        var headers = new List<KeyValuePair<string, string>>(lines.Length - 1);
        foreach (var line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new InvalidDataException("A multipart part has a malformed header line");
            }

            headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }

        return headers;
    }

    private static bool StartsWith(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> prefix)
    {
        if (buffer.Length < prefix.Length)
        {
            return false;
        }

        if (buffer.FirstSpan.Length >= prefix.Length)
        {
            return buffer.FirstSpan.StartsWith(prefix);
        }

        Span<byte> head = stackalloc byte[prefix.Length];
        buffer.Slice(0, prefix.Length).CopyTo(head);
        return head.SequenceEqual(prefix);
    }

    /// <summary>
    /// Moves the bytes up to the next delimiter (to the end for a raw body) into <paramref name="target"/>, or drops them
    /// when it is null, and consumes the delimiter. Returns the byte count.
    /// </summary>
    private async Task<long> PumpAsync(SafeFileHandle? target, long maxBytes, Func<Exception>? tooLarge, CancellationToken cancellationToken)
    {
        long total = 0;
        long scanned = 0; // bytes at the start of the unconsumed buffer already known to hold no delimiter
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            long found = -1;
            long safe = buffer.Length;
            if (_delimiter is not null)
            {
                found = IndexOf(buffer.Slice(scanned), _delimiter, out safe);
                found = found < 0 ? -1 : found + scanned;
                safe += scanned;
            }

            if (found < 0 && !result.IsCompleted && safe < _batchBytes)
            {
                scanned = safe; // collect more before writing
                _reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            long take = found >= 0 ? found : safe;
            try
            {
                if (total + take > maxBytes)
                {
                    throw tooLarge!();
                }

                if (target is not null && take > 0)
                {
                    Write(target, buffer.Slice(0, take), total);
                }
            }
            catch
            {
                // Hand the buffer back, so the server can still drain or discard the rest of the body after an error.
                _reader.AdvanceTo(buffer.Start, buffer.End);
                throw;
            }

            total += take;
            scanned = 0;
            if (found >= 0)
            {
                _reader.AdvanceTo(buffer.GetPosition(found + _delimiter!.Length));
                return total;
            }

            if (result.IsCompleted)
            {
                _reader.AdvanceTo(buffer.End);
                return _delimiter is null ? total : throw new InvalidDataException("The multipart body ended before the part's closing boundary");
            }

            _reader.AdvanceTo(buffer.GetPosition(take), buffer.End);
        }
    }

    private void Write(SafeFileHandle target, in ReadOnlySequence<byte> data, long offset)
    {
        if (data.IsSingleSegment)
        {
            RandomAccess.Write(target, data.FirstSpan, offset);
            return;
        }

        _pieces.Clear();
        foreach (var piece in data)
        {
            _pieces.Add(piece);
        }

        RandomAccess.Write(target, _pieces, offset);
    }
}
