using System.Net;
using System.Net.Sockets;

namespace Tollgate.Tests.Infrastructure;

/// <summary>A loopback TCP forwarder that a test can cut and restore, to make a real server unreachable for a while.</summary>
public sealed class TcpProxy(string targetHost, int targetPort) : IDisposable
{
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource _stop = new();

    public int Port { get; private set; }

    public void Start()
    {
        _stop = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync(_listener, _stop.Token);
    }

    /// <summary>Stops listening and drops every open connection: the target looks down.</summary>
    public void Cut()
    {
        _stop.Cancel();
        _listener?.Stop();
        lock (_connections)
        {
            _connections.ForEach(c => c.Dispose());
            _connections.Clear();
        }
    }

    public void Dispose()
    {
        Cut();
        _stop.Dispose();
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stop);
                var upstream = new TcpClient();
                await upstream.ConnectAsync(targetHost, targetPort, stop);
                lock (_connections)
                {
                    _connections.Add(client);
                    _connections.Add(upstream);
                }

                _ = PumpAsync(client, upstream);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task PumpAsync(TcpClient a, TcpClient b)
    {
        try
        {
            var one = a.GetStream().CopyToAsync(b.GetStream());
            var other = b.GetStream().CopyToAsync(a.GetStream());
            await Task.WhenAny(one, other);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
