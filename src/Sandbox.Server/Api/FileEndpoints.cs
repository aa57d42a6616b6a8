using Microsoft.Net.Http.Headers;
using Sandbox.Protocol;
using Sandbox.Server.Commands;
using Sandbox.Server.Files;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Api;

/// <summary>Data plane files: upload, download (GET/HEAD with ranges and validators), glob and grep. All confined to the box root.</summary>
internal static class FileEndpoints
{
    private const int DefaultGlobLimit = 1000;
    private const int DefaultGrepLimit = 1000;
    private const long MaxGrepFileBytes = 16L * 1024 * 1024;

    public static void Map(RouteGroupBuilder dataPlane)
    {
        dataPlane.MapPost("/upload", UploadAsync);
        dataPlane.MapMethods("/download", ["GET", "HEAD"], DownloadAsync);
        dataPlane.MapPost("/glob", GlobAsync);
        dataPlane.MapPost("/grep", GrepAsync);
    }

    /// <summary>Absolute in-box path; relative paths resolve from /home/user.</summary>
    internal static string ResolvePath(string? path, string field = "path")
    {
        if (string.IsNullOrEmpty(path))
        {
            throw ApiException.Validation(field, "path is required");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw ApiException.Validation(field, "path must not contain NUL characters");
        }

        string absolute = path.StartsWith('/') ? path : CommandSpecBuilder.DefaultWorkDir + "/" + path;
        try
        {
            _ = RootedFileSystem.Relative(absolute);
        }
        catch (BoxFileException e)
        {
            throw ApiException.Structured(400, "InvalidPath", e.Message);
        }

        return absolute;
    }

    private static async Task<IResult> UploadAsync(string id, HttpRequest request, BoxManager boxes, SandboxServerOptions options, CancellationToken ct)
    {
        var box = ExecuteEndpoints.FindBox(boxes, id);
        string path = ResolvePath(request.Query["path"]);
        if (request.ContentLength > options.MaxUploadBytes + 64 * 1024)
        {
            throw TooLarge(options);
        }

        var feature = request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = null;
        }

        var running = await boxes.EnsureRunningAsync(box, ct).ConfigureAwait(false);
        string? boundary = request.ContentType is { } ct2 && MediaTypeHeaderValue.TryParse(ct2, out var media)
            ? HeaderUtilities.RemoveQuotes(media.Boundary).Value : null;
        UploadBodyReader body;
        try
        {
            body = new UploadBodyReader(request.BodyReader, boundary is { Length: > 0 } ? boundary : null, UploadBatchBytes(request.HttpContext));
            if (!await body.MoveToFilePartAsync(ct).ConfigureAwait(false))
            {
                throw ApiException.Validation("file", "The multipart body has no 'file' part");
            }
        }
        catch (InvalidDataException e)
        {
            throw ApiException.Validation("file", e.Message);
        }

        long written = await WriteAsync(running, path, body, options, ct).ConfigureAwait(false);
        box.Touch(boxes.Time);
        return Results.Json(new UploadResponse { Path = path, Written = written }, SandboxJson.Options);
    }

    private static async Task<long> WriteAsync(RunningBox running, string path, UploadBodyReader content, SandboxServerOptions options, CancellationToken ct)
    {
        // The content goes to a temporary file that replaces the target only once it is complete: a rejected (413),
        // failed or interrupted upload leaves the old file as it was.
        using var pending = running.Files.CreateReplacement(path);
        long total;
        try
        {
            total = await content.CopyToAsync(pending.Handle, options.MaxUploadBytes, () => TooLarge(options), ct).ConfigureAwait(false);
            pending.Commit();
        }
        catch (IOException e) when (e is not BoxFileException && e.Message.Contains("No space", StringComparison.OrdinalIgnoreCase))
        {
            throw new BoxFileException(BoxFileError.NoSpace, $"No space left on the sandbox filesystem while writing '{path}'");
        }
        catch (InvalidDataException e)
        {
            throw ApiException.Validation("file", e.Message);
        }

        return total;
    }

    /// <summary>
    /// A quarter of the bytes Kestrel buffers for a request before it stops reading the socket (1 MiB by default), so
    /// the upload reader never waits for data that Kestrel holds back.
    /// </summary>
    private static int UploadBatchBytes(HttpContext context)
    {
        var kestrel = context.RequestServices.GetService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>>()?.Value;
        long limit = kestrel?.Limits.MaxRequestBufferSize ?? long.MaxValue;
        if (context.Request.Protocol != "HTTP/1.1" && kestrel is not null)
        {
            limit = Math.Min(limit, kestrel.Limits.Http2.InitialStreamWindowSize);
        }

        return (int)Math.Clamp(limit / 4, 1024, UploadBodyReader.DefaultBatchBytes);
    }

    private static ApiException TooLarge(SandboxServerOptions options) =>
        ApiException.Structured(413, "PayloadTooLarge", $"Upload exceeds the server limit of {options.MaxUploadBytes} bytes");

    /// <summary>
    /// GET/HEAD of one regular file. The descriptor comes from <see cref="RootedFileSystem.OpenRead"/> (an <c>O_PATH</c>
    /// check first, so FIFOs, sockets and devices are refused without blocking); the framework's file result then
    /// answers validators and ranges: 304 (If-None-Match / If-Modified-Since), 412 (If-Match / If-Unmodified-Since),
    /// 206 with <c>Content-Range</c>, 416 with <c>bytes */size</c>, 200 when the range is malformed, multi-part or
    /// its If-Range is stale; HEAD sends the headers without a body.
    /// </summary>
    private static async Task<IResult> DownloadAsync(string id, HttpContext context, BoxManager boxes, CancellationToken ct)
    {
        var box = ExecuteEndpoints.FindBox(boxes, id);
        string path = ResolvePath(context.Request.Query["path"]);
        var running = await boxes.EnsureRunningAsync(box, ct).ConfigureAwait(false);
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        FileStatus status;
        try
        {
            handle = running.Files.OpenRead(path, out status);
        }
        catch (BoxFileException e) when (e.Error == BoxFileError.NotFound)
        {
            throw ApiException.Structured(404, "FileNotFound", $"File '{path}' not found in sandbox '{box.Name}'");
        }

        box.Touch(boxes.Time);
        if (context.Request.GetTypedHeaders().Range is { } range && !string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase))
        {
            context.Request.Headers.Range = default; // the framework would read any unit as bytes; RFC 9110 §14.2 says ignore it
        }

        var content = new BoxFileReadStream(handle, status.Size);
        return TypedResults.Stream(content, "application/octet-stream", lastModified: status.Modified,
            entityTag: EntityTagHeaderValue.Parse(status.ETag), enableRangeProcessing: true);
    }

    private static async Task<IResult> GlobAsync(string id, HttpRequest request, BoxManager boxes, SandboxServerOptions options, CancellationToken ct)
    {
        var box = ExecuteEndpoints.FindBox(boxes, id);
        var body = await ApiRequest.ReadJsonAsync<GlobRequest>(request, ct).ConfigureAwait(false);
        string root = ResolvePath(body.Path);
        int limit = body.Limit is > 0 ? body.Limit.Value : DefaultGlobLimit;
        var pattern = new GlobPattern(body.Pattern);
        var running = await boxes.EnsureRunningAsync(box, ct).ConfigureAwait(false);
        box.Touch(boxes.Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.FileWalkTimeout);
        using var slot = await WalkSlot.EnterAsync(box, options, deadline.Token, ct).ConfigureAwait(false);
        using var dir = OpenSearchRoot(running, root, box);
        var matches = new List<GlobMatch>();
        bool truncated = false;
        try
        {
            BoxFileWalker.Walk(dir, root, pattern.MaxDepth, Limits(options), entry =>
            {
                if (pattern.IsMatch(entry.RelativePath))
                {
                    if (matches.Count >= limit)
                    {
                        truncated = true;
                        return false;
                    }

                    matches.Add(new GlobMatch
                    {
                        Path = entry.AbsolutePath,
                        IsDir = entry.Status.IsDirectory,
                        SizeBytes = entry.Status.Size,
                        ModifiedAt = Timestamps.Format(entry.Status.Modified),
                    });
                }

                return true;
            }, deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            truncated = true;
        }

        return Results.Json(new GlobResponse { Matches = matches, Truncated = truncated }, SandboxJson.Options);
    }

    private static BoxFileWalker.Limits Limits(SandboxServerOptions options) => new(options.FileWalkMaxDepth, options.FileWalkMaxEntries);

    private static Microsoft.Win32.SafeHandles.SafeFileHandle OpenSearchRoot(RunningBox running, string root, Box box)
    {
        try
        {
            return running.Files.OpenDirectory(root);
        }
        catch (BoxFileException e) when (e.Error is BoxFileError.NotFound)
        {
            throw ApiException.Structured(404, "FileNotFound", $"Path '{root}' not found in sandbox '{box.Name}'");
        }
    }

    private static async Task<IResult> GrepAsync(string id, HttpRequest request, BoxManager boxes, SandboxServerOptions options, CancellationToken ct)
    {
        var box = ExecuteEndpoints.FindBox(boxes, id);
        var body = await ApiRequest.ReadJsonAsync<GrepRequest>(request, ct).ConfigureAwait(false);
        if (string.IsNullOrEmpty(body.Pattern))
        {
            throw ApiException.Validation("pattern", "pattern is required");
        }

        string root = ResolvePath(body.Path);
        int limit = body.Limit is > 0 ? body.Limit.Value : DefaultGrepLimit;
        GlobPattern? pathFilter = null;
        System.Text.RegularExpressions.Regex? nameFilter = null;
        if (body.Glob is { Length: > 0 } glob)
        {
            if (glob.Contains('/', StringComparison.Ordinal) || glob.Contains("**", StringComparison.Ordinal))
            {
                pathFilter = new GlobPattern(glob);
            }
            else
            {
                nameFilter = new System.Text.RegularExpressions.Regex("^" + GlobPattern.SegmentToRegex(glob) + "$",
                    System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
        }

        var running = await boxes.EnsureRunningAsync(box, ct).ConfigureAwait(false);
        box.Touch(boxes.Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.FileWalkTimeout);
        using var slot = await WalkSlot.EnterAsync(box, options, deadline.Token, ct).ConfigureAwait(false);
        using var dir = OpenSearchRoot(running, root, box);
        var matches = new List<GrepMatch>();
        bool truncated = false;
        try
        {
            BoxFileWalker.Walk(dir, root, int.MaxValue, Limits(options), entry =>
            {
                if (!entry.Status.IsRegularFile || entry.Status.Size > MaxGrepFileBytes
                    || (pathFilter is not null && !pathFilter.IsMatch(entry.RelativePath))
                    || (nameFilter is not null && !nameFilter.IsMatch(entry.Name)))
                {
                    return true;
                }

                using var handle = BoxFileWalker.OpenFile(entry);
                if (handle is null)
                {
                    return true;
                }

                using var stream = new FileStream(handle, FileAccess.Read, 0);
                byte[] head = new byte[Math.Min(8192, (int)Math.Max(0, entry.Status.Size))];
                int headRead = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
                if (Array.IndexOf(head, (byte)0, 0, headRead) >= 0)
                {
                    return true; // binary file
                }

                stream.Position = 0;
                using var reader = new StreamReader(stream);
                int lineNumber = 0;
                while (reader.ReadLine() is { } line)
                {
                    deadline.Token.ThrowIfCancellationRequested();
                    lineNumber++;
                    if (line.Contains(body.Pattern, StringComparison.Ordinal))
                    {
                        if (matches.Count >= limit)
                        {
                            truncated = true;
                            return false;
                        }

                        matches.Add(new GrepMatch { Path = entry.AbsolutePath, Line = lineNumber, Text = line.Length > 4096 ? line[..4096] : line });
                    }
                }

                return true;
            }, deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            truncated = true;
        }

        return Results.Json(new GrepResponse { Matches = matches, Truncated = truncated }, SandboxJson.Options);
    }
}
