using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LiveGrains.Testing;

/// <summary>
/// A minimal RESP2 client over a raw socket: enough for tests to check what a real Redis holds without a client library.
/// </summary>
public static class Resp
{
    /// <summary>
    /// Sends one command and returns its reply: simple strings, bulk strings and integers as text, a nil bulk as null,
    /// arrays as their elements joined by newlines. An error reply throws <see cref="RedisErrorException"/>.
    /// </summary>
    public static async Task<string?> ExecuteAsync(int port, IReadOnlyList<string> command, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Count == 0)
        {
            throw new ArgumentException("A command needs at least its name.", nameof(command));
        }

        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port, cancellation.Token);
        await using var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(command.Count).Append("\r\n");
        foreach (var part in command)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), cancellation.Token);
        var reader = new ReplyReader(stream, cancellation.Token);
        return await reader.ReadAsync();
    }

    /// <summary>
    /// Sends an inline <c>PING\r\n</c> and returns true on <c>+PONG</c>; false when nothing listens, the server is still
    /// loading its data (<c>-LOADING</c>) or does not answer in time.
    /// </summary>
    public static async Task<bool> PingAsync(int port, TimeSpan? timeout = null)
    {
        try
        {
            using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(2));
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(IPAddress.Loopback, port, cancellation.Token);
            await using var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellation.Token);
            var line = await new ReplyReader(stream, cancellation.Token).ReadLineAsync();
            return line == "+PONG";
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private sealed class ReplyReader(NetworkStream stream, CancellationToken cancellationToken)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _start;
        private int _end;

        public async Task<string?> ReadAsync()
        {
            var line = await ReadLineAsync();
            if (line.Length == 0)
            {
                throw new IOException("Empty RESP reply line.");
            }

            var payload = line[1..];
            switch (line[0])
            {
                case '+':
                case ':':
                    return payload;
                case '-':
                    throw new RedisErrorException(payload);
                case '$':
                    var length = int.Parse(payload, CultureInfo.InvariantCulture);
                    if (length < 0)
                    {
                        return null;
                    }

                    var bytes = await ReadExactAsync(length + 2);
                    return Encoding.UTF8.GetString(bytes, 0, length);
                case '*':
                    var count = int.Parse(payload, CultureInfo.InvariantCulture);
                    if (count < 0)
                    {
                        return null;
                    }

                    var items = new List<string>(count);
                    for (var i = 0; i < count; i++)
                    {
                        items.Add(await ReadAsync() ?? "(nil)");
                    }

                    return string.Join('\n', items);
                default:
                    throw new IOException($"Unexpected RESP reply: {line}");
            }
        }

        public async Task<string> ReadLineAsync()
        {
            var line = new List<byte>();
            while (true)
            {
                if (_start == _end)
                {
                    await FillAsync();
                }

                var b = _buffer[_start++];
                if (b == '\n' && line.Count > 0 && line[^1] == '\r')
                {
                    line.RemoveAt(line.Count - 1);
                    return Encoding.UTF8.GetString([.. line]);
                }

                line.Add(b);
            }
        }

        private async Task<byte[]> ReadExactAsync(int count)
        {
            var result = new byte[count];
            var filled = 0;
            while (filled < count)
            {
                if (_start == _end)
                {
                    await FillAsync();
                }

                var take = Math.Min(count - filled, _end - _start);
                Array.Copy(_buffer, _start, result, filled, take);
                _start += take;
                filled += take;
            }

            return result;
        }

        private async Task FillAsync()
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            if (_end == 0)
            {
                throw new IOException("Redis closed the connection before a complete reply.");
            }
        }
    }
}

/// <summary>An error reply (<c>-ERR ...</c>) from Redis.</summary>
public sealed class RedisErrorException(string message) : Exception(message);
