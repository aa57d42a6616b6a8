using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Sandbox.AgentTools;

// The tools' arguments as the model sees them. The JSON schemas are generated from these types (ToolSchemas, through
// AIJsonUtilities): [Description] becomes "description", [DefaultValue] becomes "default" and leaves the argument optional,
// C# 'required' members are the schema's "required" list, and additionalProperties is false. "{workspace}", "{default_timeout}"
// and "{max_read_bytes}" in a description are filled in from the options. The values themselves are read by ToolArgs, which
// gives the model an error with a hint for each kind of bad input.

/// <summary>Arguments of <c>run_code</c>.</summary>
internal sealed class RunCodeArguments
{
    [Description("The code to run. For bash, a shell script.")]
    public required string Code { get; init; }

    [Description("python (persistent interpreter), javascript (persistent Node.js interpreter) or bash (a new shell per call).")]
    [AllowedValues("python", "javascript", "bash")]
    [DefaultValue("python")]
    public string Language { get; init; } = "python";

    [Description("Interrupt the code after this many seconds (default {default_timeout}).")]
    [Range(1, 600)]
    public double TimeoutSeconds { get; init; }
}

/// <summary>Arguments of <c>write_file</c>.</summary>
internal sealed class WriteFileArguments
{
    [Description("File path relative to the workspace {workspace} (absolute paths must stay inside it).")]
    public required string Path { get; init; }

    [Description("The file content: text, or base64 when encoding is 'base64'.")]
    public required string Content { get; init; }

    [Description("How 'content' is encoded.")]
    [AllowedValues("utf-8", "base64")]
    [DefaultValue("utf-8")]
    public string Encoding { get; init; } = "utf-8";
}

/// <summary>Arguments of <c>read_file</c>.</summary>
internal sealed class ReadFileArguments
{
    [Description("File path relative to the workspace {workspace}.")]
    public required string Path { get; init; }

    [Description("Byte offset to start reading at.")]
    [Range(0, long.MaxValue)]
    [DefaultValue(0)]
    public long Offset { get; init; }

    [Description("Bytes to read (default and maximum {max_read_bytes}).")]
    [Range(1, int.MaxValue)]
    public int Length { get; init; }

    [Description("auto: text as text, images as images, other binary described; utf-8: force text; base64: raw bytes as base64.")]
    [AllowedValues("auto", "utf-8", "base64")]
    [DefaultValue("auto")]
    public string Encoding { get; init; } = "auto";
}

/// <summary>Arguments of <c>list_files</c>.</summary>
internal sealed class ListFilesArguments
{
    [Description("Directory relative to the workspace {workspace} (default: the workspace itself).")]
    public string? Path { get; init; }

    [Description("Glob relative to 'path': '*' = direct entries, '**/*' = everything, '**/*.py' = Python files at any depth.")]
    [DefaultValue("**/*")]
    public string Pattern { get; init; } = "**/*";
}

/// <summary>Arguments of <c>expose_port</c>.</summary>
internal sealed class ExposePortArguments
{
    [Description("TCP port the server listens on inside the sandbox.")]
    [Range(1, 65535)]
    public required int Port { get; init; }
}
