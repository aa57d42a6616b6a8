using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Sandbox.AgentTools;

/// <summary>Reads model-supplied arguments (JSON elements or CLR values) with clear errors for the model.</summary>
internal static class ToolArgs
{
    public static string? GetString(AIFunctionArguments args, string name, bool required)
    {
        if (!args.TryGetValue(name, out object? value) || value is null || value is JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined })
        {
            return required ? throw new ToolArgumentException($"The argument '{name}' is required.", hint: $"Call the tool again with '{name}'.") : null;
        }

        return value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            JsonElement e => throw new ToolArgumentException($"The argument '{name}' must be a string, not {e.ValueKind.ToString().ToLowerInvariant()}."),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        };
    }

    public static long? GetInteger(AIFunctionArguments args, string name, long min, long max)
    {
        if (!args.TryGetValue(name, out object? value) || value is null || value is JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined })
        {
            return null;
        }

        long? parsed = value switch
        {
            JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetInt64(out long l) => l,
            JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < 1e15 => (long)d,
            JsonElement { ValueKind: JsonValueKind.String } e when long.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
            int i => i,
            long l => l,
            double d when d == Math.Floor(d) && Math.Abs(d) < 1e15 => (long)d,
            string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
            _ => null,
        };
        if (parsed is null)
        {
            throw new ToolArgumentException($"The argument '{name}' must be an integer.");
        }

        if (parsed < min || parsed > max)
        {
            throw new ToolArgumentException($"The argument '{name}' is {parsed}; it must be between {min} and {max}.");
        }

        return parsed;
    }

    public static double? GetNumber(AIFunctionArguments args, string name, double min, double max)
    {
        if (!args.TryGetValue(name, out object? value) || value is null || value is JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined })
        {
            return null;
        }

        double? parsed = value switch
        {
            JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
            JsonElement { ValueKind: JsonValueKind.String } e when double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
            int i => i,
            long l => l,
            double d => d,
            float f => f,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
            _ => null,
        };
        if (parsed is null || double.IsNaN(parsed.Value))
        {
            throw new ToolArgumentException($"The argument '{name}' must be a number.");
        }

        if (parsed < min || parsed > max)
        {
            throw new ToolArgumentException($"The argument '{name}' is {parsed.Value.ToString(CultureInfo.InvariantCulture)}; it must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}.");
        }

        return parsed;
    }

    public static string GetChoice(AIFunctionArguments args, string name, string? defaultValue, params string[] allowed)
    {
        string? value = GetString(args, name, required: defaultValue is null);
        if (value is null)
        {
            return defaultValue!;
        }

        string normalized = value.Trim().ToLowerInvariant();
        foreach (string choice in allowed)
        {
            if (choice == normalized)
            {
                return choice;
            }
        }

        throw new ToolArgumentException($"The argument '{name}' is '{value}'; it must be one of: {string.Join(", ", allowed)}.");
    }
}
