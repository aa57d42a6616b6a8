using System.Net;
using System.Text.RegularExpressions;

namespace Sandbox.Server.Networking.Egress;

/// <summary>
/// One destination pattern of <c>access_control</c> or <c>match_hosts</c> (base §7.5): exact domain, glob
/// (<c>*.example.com</c>, <c>api-?.example.com</c>), IP address, CIDR range, or regex prefixed with <c>~</c>.
/// Domains compare case-insensitively, ignoring a trailing dot.
/// </summary>
internal sealed class HostPattern
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);
    private readonly Regex? _regex;
    private readonly string? _domain;
    private readonly IPAddress? _network;
    private readonly int _prefixLength;

    private HostPattern(string text, Regex? regex, string? domain, IPAddress? network, int prefixLength)
    {
        Text = text;
        _regex = regex;
        _domain = domain;
        _network = network;
        _prefixLength = prefixLength;
    }

    /// <summary>The pattern as configured (used in error messages).</summary>
    public string Text { get; }

    /// <summary>Parses a pattern; throws <see cref="FormatException"/> for an invalid regex or CIDR.</summary>
    public static HostPattern Parse(string pattern)
    {
        var text = pattern.Trim();
        if (text.StartsWith('~'))
        {
            try
            {
                return new HostPattern(pattern, new Regex(text[1..], RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout), null, null, 0);
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"Invalid regex host pattern '{pattern}': {ex.Message}", ex);
            }
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && IPAddress.TryParse(text[..slash], out var network))
        {
            var max = network.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
            if (!int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix) || prefix > max)
            {
                throw new FormatException($"Invalid CIDR host pattern '{pattern}'.");
            }

            return new HostPattern(pattern, null, null, network, prefix);
        }

        if (IPAddress.TryParse(text.Trim('[', ']'), out var ip))
        {
            var full = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
            return new HostPattern(pattern, null, null, ip, full);
        }

        var domain = Normalize(text);
        if (domain.Contains('*', StringComparison.Ordinal) || domain.Contains('?', StringComparison.Ordinal))
        {
            var regex = "^" + Regex.Escape(domain).Replace("\\*", "[^.]*(?:\\.[^.]*)*", StringComparison.Ordinal).Replace("\\?", "[^.]", StringComparison.Ordinal) + "$";
            if (domain.StartsWith("*.", StringComparison.Ordinal))
            {
                // "*.example.com" matches any depth of subdomain, not example.com itself.
                regex = "^.+" + Regex.Escape(domain[1..]) + "$";
            }

            return new HostPattern(pattern, new Regex(regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout), null, null, 0);
        }

        return new HostPattern(pattern, null, domain, null, 0);
    }

    /// <summary>Whether the destination matches: by name for domain, glob and regex patterns; by address for IP and CIDR patterns.</summary>
    public bool Matches(string host, IPAddress? address)
    {
        var name = Normalize(host);
        if (_domain is not null)
        {
            return string.Equals(_domain, name, StringComparison.Ordinal);
        }

        if (_regex is not null)
        {
            try
            {
                return _regex.IsMatch(name);
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }

        var target = IPAddress.TryParse(name.Trim('[', ']'), out var literal) ? literal : address;
        return target is not null && InNetwork(target, _network!, _prefixLength);
    }

    private static string Normalize(string host) => host.Trim().TrimEnd('.').ToLowerInvariant();

    private static bool InNetwork(IPAddress address, IPAddress network, int prefixLength)
    {
        if (address.IsIPv4MappedToIPv6 && network.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != network.AddressFamily)
        {
            return false;
        }

        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        for (var i = 0; i < a.Length && prefixLength > 0; i++, prefixLength -= 8)
        {
            var mask = prefixLength >= 8 ? 0xFF : (byte)(0xFF << (8 - prefixLength));
            if ((a[i] & mask) != (n[i] & mask))
            {
                return false;
            }
        }

        return true;
    }
}
