using System.Text;

namespace Sandbox.Client;

/// <summary>
/// Collects a command's output as the UTF-8 bytes it arrived as (in segments, so nothing is copied as it grows) and makes
/// the one string of it at the end: while a command runs its collected output costs its own size, not a string
/// builder's two bytes per character plus the final copy.
/// </summary>
/// <remarks>Not thread-safe (one reader at a time appends).</remarks>
internal sealed class Utf8Collector
{
    private const int FirstSegmentBytes = 4 * 1024;
    private const int MaxSegmentBytes = 1024 * 1024;
    private readonly List<(byte[] Array, int Length)> _full = [];
    private byte[] _current = [];
    private int _used;

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        Length += bytes.Length;
        while (!bytes.IsEmpty)
        {
            if (_used == _current.Length)
            {
                if (_current.Length > 0)
                {
                    _full.Add((_current, _used));
                }

                int size = _current.Length == 0 ? Math.Max(FirstSegmentBytes, bytes.Length) : _current.Length * 2;
                _current = GC.AllocateUninitializedArray<byte>(Math.Min(Math.Max(size, FirstSegmentBytes), MaxSegmentBytes));
                _used = 0;
            }

            int take = Math.Min(bytes.Length, _current.Length - _used);
            bytes[..take].CopyTo(_current.AsSpan(_used));
            _used += take;
            bytes = bytes[take..];
        }
    }

    /// <summary>The collected text; the bytes are released.</summary>
    public string Build()
    {
        List<(byte[] Array, int Length)> segments = [.. _full, (_current, _used)];
        _full.Clear();
        _current = [];
        _used = 0;
        long total = Length;
        Length = 0;
        if (total == 0)
        {
            return "";
        }

        if (segments.Count == 1 || segments.Count(s => s.Length > 0) == 1)
        {
            var only = segments.First(s => s.Length > 0);
            return Encoding.UTF8.GetString(only.Array, 0, only.Length);
        }

        // A character may straddle two segments: each is counted in the segment where it starts, and one decoder
        // carries it across when the string is filled.
        int chars = 0;
        foreach (var (array, length) in segments)
        {
            var body = array.AsSpan(0, length);
            int lead = 0;
            while (lead < body.Length && lead < 3 && (body[lead] & 0xC0) == 0x80)
            {
                lead++;
            }

            body = body[lead..];
            int start = body.Length - 1;
            while (start >= 0 && start > body.Length - 4 && (body[start] & 0xC0) == 0x80)
            {
                start--;
            }

            int complete = body.Length;
            if (start >= 0)
            {
                byte first = body[start];
                int needed = first < 0x80 ? 1 : first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : 2;
                if (start + needed > body.Length)
                {
                    complete = start;
                    chars += needed == 4 ? 2 : 1; // a character completed by the next segment
                }
            }

            chars += Encoding.UTF8.GetCharCount(body[..complete]);
        }

        var decoder = Encoding.UTF8.GetDecoder();
        return string.Create(chars, (segments, decoder), static (span, state) =>
        {
            for (int i = 0; i < state.segments.Count; i++)
            {
                var (array, length) = state.segments[i];
                int written = state.decoder.GetChars(array.AsSpan(0, length), span, flush: i == state.segments.Count - 1);
                span = span[written..];
            }
        });
    }
}
