namespace CodeInterpreterAgent.Agent;

/// <summary>What the host got back from the web app running in the sandbox.</summary>
internal sealed class WebAppCheck(string url, int status, string html)
{
    public string Url { get; } = url;

    public int Status { get; } = status;

    public string Html { get; } = html;

    /// <summary>The app's <c>/api/totals</c> answer, when it has one.</summary>
    public IReadOnlyDictionary<string, decimal>? Totals { get; set; }

    /// <summary>The app's <c>/chart.png</c>, when it has one.</summary>
    public byte[]? ChartBytes { get; set; }

    public bool Answered => Status is >= 200 and < 300;
}
