namespace CodeInterpreterAgent.Models;

/// <summary>The chat model: OpenAI or an OpenAI-compatible endpoint, from <c>OPENAI_API_KEY</c>, <c>OPENAI_BASE_URL</c>, <c>OPENAI_MODEL</c>.</summary>
internal sealed record ModelSettings(string? ApiKey, Uri? BaseUrl, string Model)
{
    public const string DefaultModel = "gpt-4o-mini";

    /// <summary>The configured model, or null when none is (then the sample runs its offline scripted conversation).</summary>
    public static ModelSettings? FromEnvironment(Func<string, string?> env)
    {
        string? key = NullIfEmpty(env("OPENAI_API_KEY"));
        string? baseUrl = NullIfEmpty(env("OPENAI_BASE_URL"));
        string? model = NullIfEmpty(env("OPENAI_MODEL"));
        if (key is null && baseUrl is null)
        {
            return null;
        }

        if (baseUrl is not null && !Uri.TryCreate(baseUrl, UriKind.Absolute, out _))
        {
            throw new ArgumentException($"OPENAI_BASE_URL is not an absolute URL: '{baseUrl}'.");
        }

        return new ModelSettings(key, baseUrl is null ? null : new Uri(baseUrl), model ?? DefaultModel);
    }

    /// <summary>Where the model is, for the screen (never the key).</summary>
    public override string ToString() => $"{Model} at {BaseUrl?.ToString() ?? "https://api.openai.com/v1"}";

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
