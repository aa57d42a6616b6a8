using System.Text;

namespace Sandbox.Server.Commands;

/// <summary>A command's stdin: writes from any number of clients, one at a time, until it is closed.</summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class CommandStdin(Stream stream) : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private bool _closed;

    /// <summary>Writes <paramref name="data"/> (UTF-8); false when stdin is closed or the command no longer reads it.</summary>
    public async Task<bool> WriteAsync(string data, CancellationToken cancellationToken)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(data);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed)
            {
                return false;
            }

            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Closes stdin (the command reads end of file); later writes return false.</summary>
    public void Close()
    {
        _lock.Wait();
        try
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            stream.Dispose();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();
}
