namespace Sandbox.Server.Runtime;

/// <summary>The layout of the server's state folder.</summary>
internal sealed class DataDirectory
{
    public DataDirectory(string root)
    {
        Root = Path.GetFullPath(root);
        if (Root.IndexOfAny([',', ':', '\\', '\n']) >= 0)
        {
            throw new ArgumentException($"The data directory path '{Root}' must not contain ',', ':', '\\' or newlines (overlay mount options).", nameof(root));
        }

        Directory.CreateDirectory(Boxes);
        Directory.CreateDirectory(Snapshots);
    }

    public string Root { get; }

    public string Boxes => Path.Combine(Root, "boxes");

    public string Snapshots => Path.Combine(Root, "snapshots");

    public string BoxDirectory(string id) => Path.Combine(Boxes, id);

    public string BoxMetadata(string id) => Path.Combine(Boxes, id, "box.json");

    /// <summary>Holds the writable layers (up/, wk/) and the merged root; a loop mount point when the box has a capacity.</summary>
    public string BoxDisk(string id) => Path.Combine(Boxes, id, "disk");

    public string BoxDiskImage(string id) => Path.Combine(Boxes, id, "disk.img");

    public string SnapshotDirectory(string id) => Path.Combine(Snapshots, id);

    public string SnapshotMetadata(string id) => Path.Combine(Snapshots, id, "snapshot.json");
}
