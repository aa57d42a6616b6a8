namespace Sandbox.Server.Commands;

/// <summary>
/// A bounded ring buffer of one output stream addressed by absolute byte offsets: memory stays bounded however much a
/// command prints, and readers resume from any offset still retained (older offsets resume at the oldest kept byte).
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class OutputBuffer
{
    private const int InitialSize = 4096;
    private readonly int _capacity;
    private readonly object _gate = new();
    private byte[] _ring;
    private long _end;
    private bool _completed;

    public OutputBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 16);
        _capacity = capacity;
        _ring = new byte[Math.Min(InitialSize, capacity)];
    }

    public int Capacity => _capacity;

    /// <summary>Total bytes ever written (the offset the next byte will get).</summary>
    public long End
    {
        get
        {
            lock (_gate)
            {
                return _end;
            }
        }
    }

    /// <summary>Oldest offset still retained.</summary>
    public long Start
    {
        get
        {
            lock (_gate)
            {
                return Math.Max(0, _end - _ring.Length);
            }
        }
    }

    public bool Completed
    {
        get
        {
            lock (_gate)
            {
                return _completed;
            }
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            // Grow (while the bytes still sit linearly from offset 0) so a short command costs kilobytes, not the bound.
            if (_ring.Length < _capacity && _end + data.Length > _ring.Length)
            {
                int size = _ring.Length;
                while (size < _end + data.Length && size < _capacity)
                {
                    size = (int)Math.Min((long)size * 2, _capacity);
                }

                var grown = new byte[size];
                _ring.AsSpan(0, (int)_end).CopyTo(grown);
                _ring = grown;
            }

            if (data.Length >= _ring.Length)
            {
                _end += data.Length - _ring.Length; // bytes that never fit still advance the offsets
                data = data[^_ring.Length..];
                _end += data.Length;
                // Whole ring replaced: lay the bytes out so that offset (_end - len) maps to its ring position.
                for (int i = 0; i < data.Length; i++)
                {
                    long offset = _end - data.Length + i;
                    _ring[(int)(offset % _ring.Length)] = data[i];
                }

                return;
            }

            int pos = (int)(_end % _ring.Length);
            int first = Math.Min(data.Length, _ring.Length - pos);
            data[..first].CopyTo(_ring.AsSpan(pos));
            data[first..].CopyTo(_ring);
            _end += data.Length;
        }
    }

    /// <summary>Marks the stream as ended (no more bytes will arrive).</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
        }
    }

    /// <summary>
    /// Copies up to <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/> (or at the oldest
    /// retained byte when <paramref name="offset"/> was evicted). Returns the count and the offset actually read from.
    /// </summary>
    public int Read(long offset, Span<byte> destination, out long actualOffset, out bool completed)
    {
        lock (_gate)
        {
            completed = _completed;
            long start = Math.Max(0, _end - _ring.Length);
            actualOffset = Math.Clamp(offset, start, _end);
            int count = (int)Math.Min(destination.Length, _end - actualOffset);
            for (int copied = 0; copied < count;)
            {
                int pos = (int)((actualOffset + copied) % _ring.Length);
                int run = Math.Min(count - copied, _ring.Length - pos);
                _ring.AsSpan(pos, run).CopyTo(destination[copied..]);
                copied += run;
            }

            return count;
        }
    }
}
