namespace Sandbox.AgentTools.Tests;

internal static class TestImages
{
    /// <summary>A valid 1x1 PNG.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    /// <summary>Python that writes <see cref="Png"/> into the call's output directory.</summary>
    public const string PythonWritesPng =
        "import base64, os\n" +
        "png = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')\n" +
        "open(os.path.join(os.environ['SANDBOX_OUTPUT_DIR'], 'plot.png'), 'wb').write(png)\n" +
        "print('saved')";
}
