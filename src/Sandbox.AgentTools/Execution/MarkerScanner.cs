using System.Text;

namespace Sandbox.AgentTools;

/// <summary>
/// Splits one call's output from an interpreter stream: forwards text until the line <c>"\n" + marker + status + "\n"</c>,
/// holding back only a possible partial marker, then collects the status.
/// </summary>
/// <remarks>
/// Not thread-safe. Chunks may split the marker anywhere. <paramref name="onText"/>, when given, receives exactly the
/// text passed to the sink (the user's output), as soon as it is known not to be part of the marker.
/// </remarks>
internal sealed class MarkerScanner(string marker, HeadTailBuffer sink, Action<string>? onText = null)
{
    private readonly Action<string>? _onText = onText;
    private readonly string _needle = "\n" + marker;
    private readonly HeadTailBuffer _sink = sink;
    private readonly StringBuilder _status = new();
    private string _carry = "";
    private bool _inStatus;

    /// <summary>True once the whole marker line has been seen.</summary>
    public bool Completed { get; private set; }

    /// <summary>Text after the marker on its line (the driver's status JSON on stdout, empty on stderr).</summary>
    public string Status => _status.ToString();

    public void Feed(string chunk)
    {
        if (Completed)
        {
            return;
        }

        if (_inStatus)
        {
            AppendStatus(chunk);
            return;
        }

        string text = _carry.Length == 0 ? chunk : _carry + chunk;
        int found = text.IndexOf(_needle, StringComparison.Ordinal);
        if (found >= 0)
        {
            Emit(text.AsSpan(0, found));
            _carry = "";
            _inStatus = true;
            AppendStatus(text[(found + _needle.Length)..]);
            return;
        }

        int hold = PartialNeedleSuffix(text);
        Emit(text.AsSpan(0, text.Length - hold));
        _carry = hold == 0 ? "" : text[^hold..];
    }

    private void Emit(ReadOnlySpan<char> text)
    {
        _sink.Append(text);
        if (_onText is not null && !text.IsEmpty)
        {
            _onText(text.ToString());
        }
    }

    private void AppendStatus(string text)
    {
        int end = text.IndexOf('\n', StringComparison.Ordinal);
        if (end < 0)
        {
            _status.Append(text);
            return;
        }

        _status.Append(text.AsSpan(0, end));
        Completed = true;
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of the needle.</summary>
    private int PartialNeedleSuffix(string text)
    {
        int from = Math.Max(0, text.Length - (_needle.Length - 1));
        for (int i = from; i < text.Length; i++)
        {
            if (text[i] == '\n' && _needle.AsSpan().StartsWith(text.AsSpan(i)))
            {
                return text.Length - i;
            }
        }

        return 0;
    }
}
