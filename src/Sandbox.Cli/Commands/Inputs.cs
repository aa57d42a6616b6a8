using System.Text.Json;
using Sandbox.Cli.Infrastructure;
using Sandbox.Protocol;

namespace Sandbox.Cli.Commands;

/// <summary>Reading option values that point at files (<c>@file.json</c>) or carry JSON.</summary>
internal static class Inputs
{
    /// <summary><c>@path</c> reads the file; anything else is taken as inline JSON.</summary>
    public static ProxyConfig ProxyConfig(string value)
    {
        string json;
        string source;
        if (value.StartsWith('@'))
        {
            var path = value[1..];
            source = $"'{path}'";
            try
            {
                json = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"--proxy-config: cannot read {source}: {e.Message}", 2);
            }
        }
        else
        {
            json = value;
            source = "the inline value";
        }

        try
        {
            return JsonSerializer.Deserialize<ProxyConfig>(json, SandboxJson.Options)
                ?? throw new CliException($"--proxy-config: {source} is JSON null, expected an object", 2);
        }
        catch (JsonException e)
        {
            throw new CliException($"--proxy-config: {source} is not a valid proxy configuration: {e.Message}", 2);
        }
    }

    public static TimeSpan Seconds(int seconds) => TimeSpan.FromSeconds(seconds);
}
