using System.Globalization;
using System.Text.RegularExpressions;

namespace Sandbox.Cli.Infrastructure;

/// <summary>Parses sizes such as <c>4gb</c>, <c>512mb</c>, <c>1GiB</c> or plain bytes. Units are binary (1gb = 1024^3 bytes).</summary>
internal static partial class Sizes
{
    public static long Parse(string text, string option)
    {
        var match = SizePattern().Match(text.Trim());
        if (!match.Success)
        {
            throw new CliException($"{option}: '{text}' is not a size (examples: 512mb, 4gb, 1073741824)", 2);
        }

        double number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        long factor = match.Groups[2].Value.ToLowerInvariant() switch
        {
            "" or "b" => 1L,
            "k" or "kb" or "ki" or "kib" => 1L << 10,
            "m" or "mb" or "mi" or "mib" => 1L << 20,
            "g" or "gb" or "gi" or "gib" => 1L << 30,
            _ => 1L << 40,
        };
        double bytes = number * factor;
        if (bytes < 1 || bytes > long.MaxValue / 2)
        {
            throw new CliException($"{option}: '{text}' is out of range", 2);
        }

        return (long)bytes;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(b|k|kb|ki|kib|m|mb|mi|mib|g|gb|gi|gib|t|tb|ti|tib)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}
