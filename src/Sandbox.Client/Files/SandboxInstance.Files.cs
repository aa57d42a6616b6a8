using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>File operations (spec §8.3, §8.4, delta §5).</summary>
public sealed partial class SandboxInstance
{
    private static readonly TimeSpan FileTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Writes a file (<c>POST {dataplane}/upload?path=…</c>, multipart field <c>file</c>); binary-safe. The server
    /// creates missing parent directories. Relative paths resolve from <c>/home/user</c>.</summary>
    /// <param name="path">The file path inside the sandbox.</param>
    /// <param name="content">The bytes.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task that completes when the server stored the file.</returns>
    /// <exception cref="SandboxOperationException">The server could not write (operation <c>write</c>).</exception>
    public Task WriteFileAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        UploadAsync(path, new ReadOnlyMemoryContent(content), replayable: true, FileTimeout, cancellationToken);

    /// <summary>Writes text as UTF-8.</summary>
    /// <param name="path">The file path inside the sandbox.</param>
    /// <param name="content">The text.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task that completes when the server stored the file.</returns>
    public Task WriteFileAsync(string path, string content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return WriteFileAsync(path, Encoding.UTF8.GetBytes(content), cancellationToken);
    }

    /// <summary>Writes a file from a stream without buffering it in memory. The upload is retried (spec §4.1) only when the
    /// stream is seekable; there is no overall time limit, use <paramref name="cancellationToken"/>.</summary>
    /// <param name="path">The file path inside the sandbox.</param>
    /// <param name="content">The stream, read from its current position; not disposed.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task that completes when the server stored the file.</returns>
    public Task WriteFileAsync(string path, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return UploadAsync(path, new StreamContent(new NonDisposingStream(content), 1024 * 1024), content.CanSeek, Timeout.InfiniteTimeSpan, cancellationToken);
    }

    /// <summary>Reads a whole file (<c>GET {dataplane}/download?path=…</c>); the bytes are returned unchanged.</summary>
    /// <param name="path">The file path inside the sandbox.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The file content.</returns>
    /// <exception cref="ResourceNotFoundException">No such file (resource type <c>file</c>).</exception>
    public async Task<byte[]> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        using var response = await DownloadAsync(path, HttpCompletionOption.ResponseHeadersRead, FileTimeout, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(FileTimeout);
        var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            if (response.Content.Headers.ContentLength is { } length && length <= Array.MaxLength)
            {
                // Read straight into an array of the announced size: the file is held in memory once.
                var content = GC.AllocateUninitializedArray<byte>((int)length);
                await body.ReadExactlyAsync(content, timeout.Token).ConfigureAwait(false);
                return content;
            }

            using var copy = new MemoryStream();
            await body.CopyToAsync(copy, timeout.Token).ConfigureAwait(false);
            return copy.ToArray();
        }
    }

    /// <summary>Opens a file for streaming reads: the response body is not buffered, so a large file is never held in
    /// memory. Dispose the stream to release the connection.</summary>
    /// <param name="path">The file path inside the sandbox.</param>
    /// <param name="cancellationToken">Cancels opening (reads take their own token).</param>
    /// <returns>A read-only stream over the file content.</returns>
    /// <exception cref="ResourceNotFoundException">No such file.</exception>
    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var response = await DownloadAsync(path, HttpCompletionOption.ResponseHeadersRead, FileTimeout, cancellationToken).ConfigureAwait(false);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new ResponseStream(body, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Gets a file's size, ETag, modification time and content type (<c>HEAD {dataplane}/download</c>).</summary>
    /// <param name="path">The file path inside the sandbox.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The metadata.</returns>
    /// <exception cref="ResourceNotFoundException">No such file.</exception>
    public Task<FileStat> StatAsync(string path, CancellationToken cancellationToken = default) =>
        StatAsync(path, null, cancellationToken);

    /// <summary>Gets a file's metadata, sending extra headers on this call (delta §2.2: the API key and the
    /// client's default headers still apply; defaults never replace a per-call header).</summary>
    /// <param name="path">The file path inside the sandbox.</param>
    /// <param name="headers">Per-call headers.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The metadata.</returns>
    public async Task<FileStat> StatAsync(string path, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, DownloadUri(path));
        using var response = await Client.Runtime.SendAsync(request, FileTimeout, cancellationToken, exactHeaders: Client.Runtime.FileOperationHeaders(headers)).ConfigureAwait(false);
        await ThrowFileOperationAsync(response, path, cancellationToken).ConfigureAwait(false);
        var size = response.Content.Headers.NonValidated.TryGetValues("Content-Length", out var lengths)
            && long.TryParse(lengths.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        return new FileStat(size, Header(response, "ETag"), Header(response, "Last-Modified"), Header(response, "Content-Type"));
    }

    /// <summary>Reads a byte range of a file with conditional headers (delta §5.2): 206 → partial content, 200 → the whole
    /// file (changed or range ignored), 304 → unchanged.</summary>
    /// <param name="path">The file path inside the sandbox.</param>
    /// <param name="options">The range and validators.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The content and what the server answered.</returns>
    /// <exception cref="SandboxValidationException">An invalid range; nothing is sent.</exception>
    /// <exception cref="SandboxOperationException">416: the range starts at or past the end (operation <c>read</c>; the
    /// message carries the server's <c>Content-Range</c>).</exception>
    /// <exception cref="ResourceNotFoundException">No such file.</exception>
    public async Task<RangeReadResult> ReadRangeAsync(string path, RangeReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var range = RangeHeader(options);
        using var request = new HttpRequestMessage(HttpMethod.Get, DownloadUri(path));
        var headers = new Dictionary<string, string> { ["Range"] = range };
        if (!string.IsNullOrEmpty(options.IfRange))
        {
            headers["If-Range"] = options.IfRange;
        }

        if (!string.IsNullOrEmpty(options.IfNoneMatch))
        {
            headers["If-None-Match"] = options.IfNoneMatch;
        }

        using var response = await Client.Runtime.SendAsync(
            request, FileTimeout, cancellationToken, exactHeaders: Client.Runtime.FileOperationHeaders(options.Headers, headers)).ConfigureAwait(false);
        var etag = Header(response, "ETag");
        var lastModified = Header(response, "Last-Modified");
        switch (response.StatusCode)
        {
            case HttpStatusCode.NotModified:
                return new RangeReadResult { Unchanged = true, ETag = etag, LastModified = lastModified };
            case HttpStatusCode.PartialContent:
                var content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                var (start, total) = ParseContentRange(Header(response, "Content-Range"));
                return new RangeReadResult { Content = content, Partial = true, Start = start, TotalBytes = total, ETag = etag, LastModified = lastModified };
            case HttpStatusCode.OK:
                var whole = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                return new RangeReadResult { Content = whole, Partial = false, Start = 0, TotalBytes = whole.Length, ETag = etag, LastModified = lastModified };
            default:
                await ThrowFileOperationAsync(response, path, cancellationToken).ConfigureAwait(false);
                throw new SandboxException($"Unexpected status {(int)response.StatusCode} reading '{path}'") { StatusCode = (int)response.StatusCode };
        }
    }

    /// <summary>Finds entries under <paramref name="path"/> whose path relative to it matches <paramref name="pattern"/>
    /// (<c>POST {dataplane}/glob</c>; <c>**</c> spans directories).</summary>
    /// <param name="pattern">The glob, e.g. <c>**/*.py</c>.</param>
    /// <param name="path">The absolute directory to search under.</param>
    /// <param name="limit">Maximum number of matches (server default when null).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The matches and whether the answer was truncated.</returns>
    /// <exception cref="ResourceNotFoundException">No such directory.</exception>
    public Task<GlobResponse> GlobAsync(string pattern, string path, int? limit = null, CancellationToken cancellationToken = default) =>
        GlobAsync(new GlobRequest { Pattern = pattern, Path = path, Limit = limit }, null, cancellationToken);

    /// <summary>Glob with a request object and per-call headers (delta §2.2; they may even replace the JSON content type).</summary>
    /// <param name="request">Pattern, root path and limit.</param>
    /// <param name="headers">Per-call headers.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The matches and whether the answer was truncated.</returns>
    public Task<GlobResponse> GlobAsync(GlobRequest request, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PostFileQueryAsync<GlobResponse>("/glob", request, request.Path, headers, cancellationToken);
    }

    /// <summary>Lists the immediate entries of a directory (a glob with pattern <c>*</c>).</summary>
    /// <param name="path">The absolute directory.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The entries; directories have <c>is_dir</c> set.</returns>
    public Task<GlobResponse> ListAsync(string path, CancellationToken cancellationToken = default) =>
        GlobAsync("*", path, null, cancellationToken);

    /// <summary>Searches files under <paramref name="path"/> for a literal text (<c>POST {dataplane}/grep</c>; not a regex).</summary>
    /// <param name="pattern">The literal text.</param>
    /// <param name="path">The absolute directory searched recursively.</param>
    /// <param name="glob">File filter: a bare pattern (<c>*.py</c>) matches basenames; one with <c>/</c> or <c>**</c> matches
    /// the path relative to <paramref name="path"/>.</param>
    /// <param name="limit">Maximum number of matches.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Matching lines (1-based) and whether the answer was truncated.</returns>
    public Task<GrepResponse> GrepAsync(string pattern, string path, string? glob = null, int? limit = null, CancellationToken cancellationToken = default) =>
        GrepAsync(new GrepRequest { Pattern = pattern, Path = path, Glob = glob, Limit = limit }, null, cancellationToken);

    /// <summary>Grep with a request object and per-call headers (delta §2.2).</summary>
    /// <param name="request">Literal pattern, root path, file filter and limit.</param>
    /// <param name="headers">Per-call headers.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Matching lines and whether the answer was truncated.</returns>
    public Task<GrepResponse> GrepAsync(GrepRequest request, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PostFileQueryAsync<GrepResponse>("/grep", request, request.Path, headers, cancellationToken);
    }

    internal static string RangeHeader(RangeReadOptions options)
    {
        if (options.SuffixBytes is { } suffix)
        {
            if (options.Start is not null || options.End is not null)
            {
                throw new SandboxValidationException("SuffixBytes cannot be combined with Start or End");
            }

            if (suffix <= 0)
            {
                throw new SandboxValidationException("SuffixBytes must be greater than 0");
            }

            return "bytes=-" + suffix.ToString(CultureInfo.InvariantCulture);
        }

        if (options.Start is not { } start)
        {
            throw new SandboxValidationException("Either Start or SuffixBytes must be set");
        }

        if (start < 0)
        {
            throw new SandboxValidationException("Start must be >= 0");
        }

        if (options.End is { } end)
        {
            if (end < start)
            {
                throw new SandboxValidationException("End must be >= Start");
            }

            return $"bytes={start.ToString(CultureInfo.InvariantCulture)}-{end.ToString(CultureInfo.InvariantCulture)}";
        }

        return $"bytes={start.ToString(CultureInfo.InvariantCulture)}-";
    }

    /// <summary><c>bytes a-b/total</c> → (a, total); total <c>*</c> → null; missing/malformed → (0, null).</summary>
    internal static (long Start, long? Total) ParseContentRange(string? value)
    {
        if (value is null || !value.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
        {
            return (0, null);
        }

        var spec = value["bytes ".Length..].Trim();
        var slash = spec.IndexOf('/', StringComparison.Ordinal);
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (slash < 0 || dash < 0 || dash > slash
            || !long.TryParse(spec[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return (0, null);
        }

        long? total = long.TryParse(spec[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : null;
        return (start, total);
    }

    private Uri DownloadUri(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return DataplaneUrlFor("/download?path=" + Uri.EscapeDataString(path));
    }

    private async Task UploadAsync(string path, HttpContent content, bool replayable, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var url = DataplaneUrlFor("/upload?path=" + Uri.EscapeDataString(path));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"file\"", FileName = "\"file\"" };
        using var multipart = new MultipartFormDataContent { content };
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = multipart };
        if (!replayable)
        {
            request.Options.Set(RetryHandler.NoRetry, true);
        }

        using var response = await Client.Runtime.SendAsync(request, timeout, cancellationToken).ConfigureAwait(false);
        await ThrowDataPlaneAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> DownloadAsync(string path, HttpCompletionOption completion, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, DownloadUri(path));
        var response = await Client.Runtime.SendAsync(request, timeout, cancellationToken, completion).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                var body = await SandboxRuntime.ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
                var notFound = new ResourceNotFoundException($"File '{path}' not found in sandbox '{Name}'", "file");
                notFound.SetResponse(404, body.ErrorType, body.ErrorId);
                throw notFound;
            }

            await ThrowDataPlaneAsync(response, cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException("unreachable");
        }
    }

    private async Task<T> PostFileQueryAsync<T>(string endpoint, object body, string path, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, DataplaneUrlFor(endpoint)) { Content = SandboxRuntime.JsonBody(body) };
        using var response = await Client.Runtime.SendAsync(
            request, FileTimeout, cancellationToken, exactHeaders: Client.Runtime.FileOperationHeaders(headers)).ConfigureAwait(false);
        await ThrowFileOperationAsync(response, path, cancellationToken).ConfigureAwait(false);
        return await SandboxRuntime.ReadJsonAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Error mapping of stat/readRange/glob/grep (delta §5.5).</summary>
    private async Task ThrowFileOperationAsync(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = (int)response.StatusCode;
        if (status == 404)
        {
            throw new ResourceNotFoundException($"Path '{path}' not found in sandbox '{Name}'", "file") { StatusCode = 404 };
        }

        if (status == 416)
        {
            var range = Header(response, "Content-Range");
            throw new SandboxOperationException(
                range is null
                    ? $"Requested range of '{path}' is not satisfiable (file size unknown)"
                    : $"Requested range of '{path}' is not satisfiable (Content-Range: {range})",
                "read",
                "RangeNotSatisfiable") { StatusCode = 416 };
        }

        await ThrowDataPlaneAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task ThrowDataPlaneAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await SandboxRuntime.ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
        throw ErrorMapper.DataPlane((int)response.StatusCode, response.ReasonPhrase, body);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) || response.Content.Headers.NonValidated.TryGetValues(name, out values)
            ? values.FirstOrDefault()
            : null;
}
