using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Protocol;
using Spectre.Console;

namespace Sandbox.Cli.Output;

/// <summary>
/// Writes results to stdout: JSON by default (the wire shape, snake_case, indented), tables with <c>--format pretty</c>.
/// Progress and hints go to stderr so stdout stays machine-readable.
/// </summary>
internal sealed class OutputWriter
{
    private static readonly JsonSerializerOptions Json = new(SandboxJson.Options) { WriteIndented = true };

    public OutputWriter(bool pretty)
    {
        Pretty = pretty;
    }

    public bool Pretty { get; }

    public static JsonNode? ToNode<T>(T value) => JsonSerializer.SerializeToNode(value, Json);

    public static void Note(string line) => Console.Error.WriteLine(line);

    public void WriteJson(JsonNode? node) => Console.Out.WriteLine(node?.ToJsonString(Json) ?? "null");

    public void Sandboxes(IReadOnlyList<SandboxInfo> boxes)
    {
        if (!Pretty)
        {
            WriteJson(ToNode(boxes));
            return;
        }

        var table = NewTable("NAME", "STATUS", "VCPUS", "MEMORY", "SNAPSHOT", "CREATED");
        foreach (var box in boxes)
        {
            table.AddRow(Cells(box.Name, box.Status, box.Vcpus?.ToString(CultureInfo.InvariantCulture), Bytes(box.MemBytes), box.SnapshotId, box.CreatedAt));
        }

        Render(table, boxes.Count == 0 ? "No sandboxes." : null);
    }

    public void Sandbox(SandboxInfo box)
    {
        if (!Pretty)
        {
            WriteJson(ToNode(box));
            return;
        }

        Properties(ToNode(box) as JsonObject);
    }

    public void Snapshots(IReadOnlyList<SnapshotInfo> snapshots)
    {
        if (!Pretty)
        {
            WriteJson(ToNode(snapshots));
            return;
        }

        var table = NewTable("ID", "NAME", "STATUS", "CAPACITY", "SOURCE", "CREATED");
        foreach (var s in snapshots)
        {
            table.AddRow(Cells(s.Id, s.Name, s.Status, Bytes(s.FsCapacityBytes), s.DockerImage ?? s.SourceSandboxId, s.CreatedAt));
        }

        Render(table, snapshots.Count == 0 ? "No snapshots." : null);
    }

    public void Snapshot(SnapshotInfo snapshot)
    {
        if (!Pretty)
        {
            WriteJson(ToNode(snapshot));
            return;
        }

        Properties(ToNode(snapshot) as JsonObject);
    }

    /// <summary>A small result object (e.g. <c>{"deleted": "name"}</c>): JSON, or a key/value table.</summary>
    public void Object(JsonObject value)
    {
        if (!Pretty)
        {
            WriteJson(value);
            return;
        }

        Properties(value);
    }

    private static void Properties(JsonObject? value)
    {
        var table = NewTable("FIELD", "VALUE");
        foreach (var (key, node) in value ?? [])
        {
            table.AddRow(Markup.Escape(key), Markup.Escape(node switch
            {
                null => "",
                JsonValue v when v.TryGetValue(out string? s) => s ?? "",
                _ => node.ToJsonString(),
            }));
        }

        Render(table, null);
    }

    private static Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(column).NoWrap());
        }

        return table;
    }

    private static string[] Cells(params string?[] values) => [.. values.Select(v => Markup.Escape(v ?? ""))];

    private static void Render(Table table, string? emptyNote)
    {
        if (emptyNote is not null)
        {
            Console.Out.WriteLine(emptyNote);
            return;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Out),
            Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = Console.IsOutputRedirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        });
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 200;
        }

        console.Write(table);
    }

    public static string? Bytes(long? bytes)
    {
        if (bytes is not { } b)
        {
            return null;
        }

        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = b;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return value.ToString(value % 1 == 0 ? "0" : "0.#", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
