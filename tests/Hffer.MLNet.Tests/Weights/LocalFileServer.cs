using System.Net;
using System.Net.Sockets;

namespace Hffer.MLNet.Tests.Weights;

/// <summary>
/// Serves one byte array over HTTP on 127.0.0.1 with range support. The first <see cref="CutFirstResponseAt"/>
/// bytes of the first response are sent and then the connection is aborted, to simulate an interrupted download.
/// </summary>
internal sealed class LocalFileServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly byte[] _content;
    private readonly Task _loop;
    private int _requests;

    public LocalFileServer(byte[] content, long? cutFirstResponseAt = null)
    {
        _content = content;
        CutFirstResponseAt = cutFirstResponseAt;
        int port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/weights.pth");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    public long? CutFirstResponseAt { get; }

    public List<string?> RangeHeaders { get; } = [];

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            int request = Interlocked.Increment(ref _requests);
            string? range = context.Request.Headers["Range"];
            lock (RangeHeaders)
                RangeHeaders.Add(range);

            long start = range is null ? 0 : long.Parse(range["bytes=".Length..].TrimEnd('-'));
            var response = context.Response;
            response.StatusCode = start > 0 ? 206 : 200;
            response.ContentLength64 = _content.Length - start;
            if (start > 0)
                response.Headers["Content-Range"] = $"bytes {start}-{_content.Length - 1}/{_content.Length}";

            long end = request == 1 && CutFirstResponseAt is { } cut ? cut : _content.Length;
            try
            {
                await response.OutputStream.WriteAsync(_content.AsMemory((int)start, (int)(end - start)));
                await response.OutputStream.FlushAsync();
                if (end < _content.Length)
                {
                    response.Abort();
                    continue;
                }
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                response.Abort();
            }
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
