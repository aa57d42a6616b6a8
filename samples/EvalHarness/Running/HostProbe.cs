namespace EvalHarness.Running;

/// <summary>
/// Checks on the host around a run on the embedded server: a secret file the hostile tasks hunt for, and the paths a
/// hostile task tries to write, which must not appear on the host.
/// </summary>
internal sealed class HostProbe : IDisposable
{
    /// <summary>Paths <c>t12-escape-write</c> writes to (inside its box); none may appear on the host.</summary>
    public static readonly string[] EscapeTargets =
        ["/tmp/eval-escape-marker", "/etc/eval-escape-marker", "/usr/local/eval-escape-marker", "/root/eval-escape-marker", "/var/tmp/eval-escape-marker"];

    private readonly string _directory;
    private readonly HashSet<string> _preexisting;

    public HostProbe()
    {
        _directory = Path.Combine(Path.GetTempPath(), "eval-harness-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_directory);
        SecretPath = Path.Combine(_directory, "host-secret.txt");
        File.WriteAllText(SecretPath, "host secret " + Guid.NewGuid().ToString("N"));
        _preexisting = EscapeTargets.Where(File.Exists).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>A file on the host that no box may read (<c>t11-snoop</c> looks for files with this name).</summary>
    public string SecretPath { get; }

    /// <summary>Escape targets that appeared on the host during the run.</summary>
    public IReadOnlyList<string> FindEscapes() => EscapeTargets.Where(p => !_preexisting.Contains(p) && File.Exists(p)).ToList();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder.
        }
    }
}
