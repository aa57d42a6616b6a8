using Microsoft.Extensions.AI;

namespace Sandbox.AgentTools;

/// <summary><c>write_file(path, content, encoding)</c>.</summary>
internal sealed class WriteFileFunction(SandboxToolContext context) : SandboxToolFunction<WriteFileFunction.Args>(context, "write_file",
    $"Create or overwrite a file in the sandbox workspace ({context.Policy.Root}); parent directories are created. " +
    "Use encoding 'utf-8' for text and 'base64' for binary content.",
    ToolSchemas.For<WriteFileArguments>(context.Options, context.Policy))
{
    internal sealed record Args(string Path, byte[] Content, string Encoding);

    protected override Args Parse(AIFunctionArguments arguments)
    {
        string path = Context.Policy.Resolve(ToolArgs.GetString(arguments, "path", required: true));
        string content = ToolArgs.GetString(arguments, "content", required: true)!;
        string encoding = ToolArgs.GetChoice(arguments, "encoding", "utf-8", "utf-8", "base64");
        int max = Context.Options.MaxWriteBytes;
        byte[] bytes;
        if (encoding == "base64")
        {
            if ((long)content.Length * 3 / 4 > max + 3)
            {
                throw TooLarge((long)content.Length * 3 / 4, max);
            }

            try
            {
                bytes = Convert.FromBase64String(content);
            }
            catch (FormatException)
            {
                throw new ToolArgumentException("The content is not valid base64.", hint: "Send standard base64 (A-Z, a-z, 0-9, +, /, '=' padding), or use encoding 'utf-8' for text.");
            }
        }
        else
        {
            long size = System.Text.Encoding.UTF8.GetByteCount(content);
            if (size > max)
            {
                throw TooLarge(size, max);
            }

            bytes = System.Text.Encoding.UTF8.GetBytes(content);
        }

        if (bytes.Length > max)
        {
            throw TooLarge(bytes.Length, max);
        }

        return new Args(path, bytes, encoding);
    }

    protected override async Task<ToolOutput> ExecuteAsync(SandboxLease lease, Args args, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        string real = await SandboxFiles.ResolveInBoxAsync(lease.Sandbox, Context.Policy, args.Path, cancellationToken).ConfigureAwait(false);
        await lease.Sandbox.WriteFileAsync(real, args.Content, cancellationToken).ConfigureAwait(false);
        if (lease.Box.GetOrAttach(static _ => new BoxToolState()) is { } state)
        {
            state.LastSnapshot = null;
        }

        return ToolOutput.From(new WriteFileResult(Context.Policy.ToRelative(real), args.Content.Length, args.Encoding));
    }

    private static ToolArgumentException TooLarge(long size, int max) => new(
        $"The content is {size} bytes; write_file accepts at most {max} bytes.", "too_large",
        "Write the file in parts (e.g. generate it with run_code), or produce the data inside the sandbox instead of sending it.");
}
