using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Sandbox.Server.Files;

/// <summary>
/// A response body for file downloads whose stream hands each write to the response's <see cref="PipeWriter"/>
/// without flushing it, and flushes once per <see cref="FlushBytes"/>. The framework's file result copies a file in
/// 64 KiB writes, and Kestrel's own stream flushes every write: one socket send and one thread wake-up per 64 KiB.
/// Range and conditional processing stay the framework's; only the body's transport changes.
/// </summary>
internal sealed class BatchedResponseBody(IHttpResponseBodyFeature inner) : IHttpResponseBodyFeature
{
    /// <summary>Bytes handed to the pipe between two flushes.</summary>
    public const int FlushBytes = 1024 * 1024;

    private BatchingStream? _stream;

    public Stream Stream => _stream ??= new BatchingStream(inner);

    public PipeWriter Writer => inner.Writer;

    /// <summary>Replaces the response body feature of <paramref name="context"/> with a batching one.</summary>
    public static void Install(HttpContext context)
    {
        if (context.Features.Get<IHttpResponseBodyFeature>() is { } feature)
        {
            context.Features.Set<IHttpResponseBodyFeature>(new BatchedResponseBody(feature));
        }
    }

    public Task CompleteAsync() => inner.CompleteAsync();

    public void DisableBuffering() => inner.DisableBuffering();

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        inner.SendFileAsync(path, offset, count, cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    private sealed class BatchingStream(IHttpResponseBodyFeature inner) : Stream
    {
        private long _unflushed;
        private bool _started;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_started)
            {
                _started = true;
                await inner.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            inner.Writer.Write(buffer.Span);
            _unflushed += buffer.Length;
            if (_unflushed >= FlushBytes)
            {
                _unflushed = 0;
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            var result = await inner.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }

        public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
