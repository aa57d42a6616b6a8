using System.Text;

namespace Sandbox.AgentTools;

/// <summary>
/// Bounded capture of untrusted output: keeps the first <c>headBytes</c> and the last <c>tailBytes</c> (UTF-8) and counts
/// everything, so a process printing gigabytes costs a fixed amount of memory.
/// </summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class HeadTailBuffer
{
    private readonly int _headLimit;
    private readonly int _tailLimit;
    private readonly int _tailWindowChars;
    private readonly StringBuilder _head = new();
    private readonly StringBuilder _tail = new();
    private int _headBytes;
    private bool _headFull;
    private bool _tailTrimmed;

    public HeadTailBuffer(int headBytes, int tailBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(headBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(tailBytes);
        _headLimit = headBytes;
        _tailLimit = tailBytes;
        _tailWindowChars = Math.Max(tailBytes, 1024);
    }

    /// <summary>Every byte appended (UTF-8), kept or not.</summary>
    public long TotalBytes { get; private set; }

    public void Append(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        TotalBytes += Encoding.UTF8.GetByteCount(text);
        if (!_headFull)
        {
            int taken = 0;
            while (taken < text.Length)
            {
                int width = char.IsHighSurrogate(text[taken]) && taken + 1 < text.Length ? 2 : 1;
                int bytes = Utf8Width(text.Slice(taken, width));
                if (_headBytes + bytes > _headLimit)
                {
                    _headFull = true;
                    break;
                }

                _headBytes += bytes;
                taken += width;
            }

            _head.Append(text[..taken]);
            text = text[taken..];
        }

        if (text.IsEmpty)
        {
            return;
        }

        _tail.Append(text);
        if (_tail.Length > 2 * _tailWindowChars)
        {
            int drop = _tail.Length - _tailWindowChars;
            if (char.IsLowSurrogate(_tail[drop]))
            {
                drop++;
            }

            _tail.Remove(0, drop);
            _tailTrimmed = true;
        }
    }

    /// <summary>Renders the capture: the whole text when it fit, else head + an omission note + tail.</summary>
    public TruncatedText ToTruncatedText()
    {
        string tail = _tail.ToString();
        int tailBytes = Encoding.UTF8.GetByteCount(tail);
        if (!_tailTrimmed && tailBytes <= _tailLimit)
        {
            return new TruncatedText(_head.ToString() + tail, TotalBytes, Truncated: false);
        }

        string kept = LastBytes(tail, _tailLimit);
        long omitted = TotalBytes - _headBytes - Encoding.UTF8.GetByteCount(kept);
        return new TruncatedText($"{_head}\n[... {omitted} bytes omitted ...]\n{kept}", TotalBytes, Truncated: true);
    }

    private static string LastBytes(string text, int maxBytes)
    {
        int bytes = 0;
        int start = text.Length;
        while (start > 0)
        {
            int width = char.IsLowSurrogate(text[start - 1]) && start >= 2 ? 2 : 1;
            int w = Utf8Width(text.AsSpan(start - width, width));
            if (bytes + w > maxBytes)
            {
                break;
            }

            bytes += w;
            start -= width;
        }

        return text[start..];
    }

    private static int Utf8Width(ReadOnlySpan<char> chars) => chars.Length == 2 ? 4 : chars[0] switch
    {
        < (char)0x80 => 1,
        < (char)0x800 => 2,
        _ => 3,
    };
}
