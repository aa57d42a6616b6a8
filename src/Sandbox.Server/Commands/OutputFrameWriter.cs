using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Sandbox.Server.Commands;

/// <summary>
/// Writes <c>stdout</c>/<c>stderr</c> frames (<c>{"type":…,"data":…,"offset":…}</c>, the shape and escaping of
/// <see cref="Sandbox.Protocol.SandboxJson.Options"/>) straight from the output bytes into a pooled buffer: no
/// intermediate string, no re-encoding. Bytes that are not valid UTF-8 become U+FFFD, as decoding them would.
/// </summary>
/// <remarks>Not thread-safe: one per sending loop. Dispose to return the buffer to the pool.</remarks>
internal sealed class OutputFrameWriter : IDisposable
{
    private static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly PooledBufferWriter _buffer = new();
    private readonly Utf8JsonWriter _writer;

    public OutputFrameWriter() => _writer = new Utf8JsonWriter(_buffer, Options);

    /// <summary>Writes one frame; the result is valid until the next call.</summary>
    public ReadOnlyMemory<byte> Write(ReadOnlySpan<byte> typeUtf8, ReadOnlySpan<byte> data, long offset)
    {
        _buffer.Clear();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        _writer.WriteString("type"u8, typeUtf8);
        if (Utf8.IsValid(data))
        {
            _writer.WriteString("data"u8, data);
        }
        else
        {
            _writer.WriteString("data"u8, Utf8Chunker.Decode(data)); // rare: replacement characters, as a decoder makes them
        }

        _writer.WriteNumber("offset"u8, offset);
        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenMemory;
    }

    public void Dispose()
    {
        _writer.Dispose();
        _buffer.Dispose();
    }

    /// <summary>A growable <see cref="IBufferWriter{T}"/> over arrays rented from the shared pool.</summary>
    private sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
    {
        private byte[] _array = ArrayPool<byte>.Shared.Rent(64 * 1024);
        private int _written;

        public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _written);

        public void Clear() => _written = 0;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _array.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _array.AsSpan(_written);
        }

        private void Ensure(int sizeHint)
        {
            int needed = Math.Max(sizeHint, 256);
            if (_array.Length - _written >= needed)
            {
                return;
            }

            var grown = ArrayPool<byte>.Shared.Rent(checked(Math.Max(_array.Length * 2, _written + needed)));
            _array.AsSpan(0, _written).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_array);
            _array = grown;
        }

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }
}
