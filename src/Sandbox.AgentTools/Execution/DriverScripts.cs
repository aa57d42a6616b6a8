namespace Sandbox.AgentTools;

/// <summary>The interpreter driver scripts, embedded in the assembly and uploaded into each box on first use.</summary>
internal static class DriverScripts
{
    private static readonly Lazy<byte[]> Python = new(() => Load("python_repl.py"));
    private static readonly Lazy<byte[]> Node = new(() => Load("node_repl.js"));

    public static string FileName(CodeLanguage language) => language == CodeLanguage.Python ? "python_repl.py" : "node_repl.js";

    public static ReadOnlyMemory<byte> Content(CodeLanguage language) => language == CodeLanguage.Python ? Python.Value : Node.Value;

    private static byte[] Load(string name)
    {
        using Stream stream = typeof(DriverScripts).Assembly.GetManifestResourceStream("Sandbox.AgentTools.Drivers." + name)
            ?? throw new InvalidOperationException($"The embedded driver script {name} is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
