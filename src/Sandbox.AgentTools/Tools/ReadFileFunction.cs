using System.Text;
using System.Text.Unicode;
using Microsoft.Extensions.AI;
using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary><c>read_file(path, offset?, length?, encoding?)</c>.</summary>
internal sealed class ReadFileFunction(SandboxToolContext context) : SandboxToolFunction<ReadFileFunction.Args>(context, "read_file",
    $"Read a file from the sandbox workspace ({context.Policy.Root}). Text comes back as text, images as images; other binary files are " +
    $"described (size, type) unless you ask for encoding 'base64'. At most {context.Options.MaxReadBytes} bytes per call: use offset and length to page through large files.",
    ToolSchemas.For<ReadFileArguments>(context.Options, context.Policy, s => ToolSchemas.SetMaximum(s, "length", context.Options.MaxReadBytes)))
{
    internal sealed record Args(string Path, long Offset, int? Length, string Encoding);

    protected override Args Parse(AIFunctionArguments arguments)
    {
        string path = Context.Policy.Resolve(ToolArgs.GetString(arguments, "path", required: true));
        long offset = ToolArgs.GetInteger(arguments, "offset", 0, long.MaxValue) ?? 0;
        long? length = ToolArgs.GetInteger(arguments, "length", 1, Context.Options.MaxReadBytes);
        string encoding = ToolArgs.GetChoice(arguments, "encoding", "auto", "auto", "utf-8", "base64");
        return new Args(path, offset, (int?)length, encoding);
    }

    protected override async Task<ToolOutput> ExecuteAsync(SandboxLease lease, Args args, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        SandboxInstance box = lease.Sandbox;
        string real = await SandboxFiles.ResolveInBoxAsync(box, Context.Policy, args.Path, cancellationToken).ConfigureAwait(false);
        string shown = Context.Policy.ToRelative(real);
        FileStat stat;
        try
        {
            stat = await box.StatAsync(real, cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceNotFoundException)
        {
            return ToolOutput.Error($"The file '{shown}' does not exist.", "not_found", "Check the name with list_files.");
        }

        long size = stat.SizeBytes;
        if (args.Offset > 0 && args.Offset >= size)
        {
            return ToolOutput.Error($"The offset {args.Offset} is at or past the end of '{shown}' ({size} bytes).", "invalid_argument",
                size == 0 ? "The file is empty." : $"Use an offset below {size}.");
        }

        int max = Context.Options.MaxReadBytes;
        bool wholeImageWanted = args.Encoding == "auto" && args.Offset == 0 && args.Length is null && MediaTypes.IsImage(MediaTypes.FromExtension(real));
        int want = (int)Math.Min(args.Length ?? max, Math.Max(0, size - args.Offset));
        if (wholeImageWanted && size <= Context.Options.MaxImageBytes)
        {
            want = (int)size;
        }

        byte[] bytes;
        if (size == 0)
        {
            bytes = [];
        }
        else if (args.Offset == 0 && want >= size)
        {
            bytes = await box.ReadFileAsync(real, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            RangeReadResult range = await box.ReadRangeAsync(real, new RangeReadOptions { Start = args.Offset, End = args.Offset + want - 1 }, cancellationToken).ConfigureAwait(false);
            ReadOnlySpan<byte> content = range.Content;
            if (!range.Partial)
            {
                // 200 instead of 206: the server sent the whole file.
                content = content[(int)Math.Min(args.Offset, content.Length)..];
            }

            bytes = content[..Math.Min(want, content.Length)].ToArray();
        }

        long end = args.Offset + bytes.Length;
        bool more = end < size;
        long? next = more ? end : null;
        string? mediaType = MediaTypes.FromContent(bytes) ?? (args.Offset == 0 ? null : MediaTypes.FromExtension(real));

        if (args.Encoding == "base64")
        {
            return ToolOutput.From(new ReadFileResult
            {
                Path = shown, Kind = "base64", MediaType = mediaType, SizeBytes = size, Offset = args.Offset, Length = bytes.Length,
                Content = Convert.ToBase64String(bytes), Truncated = more, NextOffset = next,
                Note = more ? $"Partial content; call read_file again with offset={end} for the rest." : null,
            });
        }

        if (args.Encoding == "auto" && MediaTypes.IsImage(mediaType) && args.Offset == 0 && !more)
        {
            return ToolOutput.From(new ReadFileResult
            {
                Path = shown, Kind = "image", MediaType = mediaType, SizeBytes = size, Offset = 0, Length = bytes.Length,
                Note = "The image is attached.",
            }, [new DataContent(bytes, mediaType!) { Name = Path.GetFileName(real) }]);
        }

        bool isText = LooksLikeText(bytes, out int validLength);
        if (args.Encoding == "utf-8" || (isText && mediaType is null))
        {
            // Decode only whole characters; a cut multi-byte sequence at the end is left for the next page.
            int used = isText ? validLength : bytes.Length;
            string text = Encoding.UTF8.GetString(bytes, 0, used);
            long textEnd = args.Offset + used;
            bool textMore = textEnd < size;
            return ToolOutput.From(new ReadFileResult
            {
                Path = shown, Kind = "text", MediaType = "text/plain; charset=utf-8", SizeBytes = size, Offset = args.Offset, Length = used,
                Content = text, Truncated = textMore, NextOffset = textMore ? textEnd : null,
                Note = textMore ? $"Showing bytes {args.Offset}-{textEnd - 1} of {size}; call read_file with offset={textEnd} for more." : null,
            });
        }

        string kind = MediaTypes.IsImage(mediaType) ? "image" : "binary";
        string why = kind == "image"
            ? $"The image is larger than {Context.Options.MaxImageBytes} bytes or was requested in parts, so it is not attached."
            : "This is a binary file; its bytes are not shown.";
        return ToolOutput.From(new ReadFileResult
        {
            Path = shown, Kind = kind, MediaType = mediaType ?? "application/octet-stream", SizeBytes = size, Offset = args.Offset, Length = 0,
            Note = why + " Call read_file with encoding 'base64' (and offset/length for parts) to get the bytes, or inspect it with run_code (e.g. python).",
        });
    }

    /// <summary>True for valid UTF-8 without NULs (a trailing cut character is tolerated; <paramref name="validLength"/> excludes it).</summary>
    internal static bool LooksLikeText(ReadOnlySpan<byte> bytes, out int validLength)
    {
        validLength = bytes.Length;
        if (bytes.IndexOf((byte)0) >= 0)
        {
            return false;
        }

        int trim = 0;
        // Up to 3 trailing bytes may be an incomplete sequence cut by paging.
        while (trim < 3 && trim < bytes.Length && !Utf8.IsValid(bytes[..^trim]))
        {
            trim++;
        }

        if (!Utf8.IsValid(bytes[..^trim]))
        {
            return false;
        }

        validLength = bytes.Length - trim;
        return true;
    }
}
