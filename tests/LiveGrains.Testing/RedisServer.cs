using Xunit;

namespace LiveGrains.Testing;

/// <summary>How <see cref="RedisServer.StopAsync"/> ends the server.</summary>
public enum RedisStopMode
{
    /// <summary>The SHUTDOWN command: Redis flushes and fsyncs its append-only file, then exits.</summary>
    Shutdown,

    /// <summary>SIGKILL (kill -9): a crash; only what already reached the append-only file survives.</summary>
    Kill,
}

/// <summary>Settings of a <see cref="RedisServer"/>.</summary>
public sealed record RedisServerOptions
{
    /// <summary><c>--appendonly</c>: persist every write to the append-only file.</summary>
    public bool AppendOnly { get; init; } = true;

    /// <summary><c>--appendfsync</c>: always, everysec or no.</summary>
    public string AppendFsync { get; init; } = "everysec";

    /// <summary><c>--save</c>: RDB snapshot points; empty turns snapshots off.</summary>
    public string Save { get; init; } = string.Empty;

    /// <summary>More arguments for redis-server, e.g. <c>["--maxmemory", "64mb"]</c>.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>The redis-server binary; a bare name is looked up on PATH.</summary>
    public string ExecutablePath { get; init; } = "redis-server";

    /// <summary>A fixed port; null picks a free one.</summary>
    public int? Port { get; init; }

    /// <summary>How long a start may take until the server answers PING (including loading its data).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A real redis-server process on a free loopback port with its own data directory. It can be killed, shut down and
/// restarted on the same port and data, so tests can check what survives. Use it directly
/// (<c>await using var redis = await RedisServer.StartAsync();</c>) or as an xunit fixture (it is an
/// <see cref="IAsyncLifetime"/>). It never skips: without redis-server installed it throws.
/// </summary>
public class RedisServer : IAsyncLifetime, IAsyncDisposable
{
    private readonly RedisServerOptions _options;
    private ChildProcess? _process;
    private bool _disposed;

    /// <summary>A server with the default options; xunit fixtures need this single public constructor.</summary>
    public RedisServer()
        : this(new RedisServerOptions())
    {
    }

    /// <summary>
    /// A server with other options. For a fixture with them, derive:
    /// <c>public sealed class AlwaysFsyncRedis() : RedisServer(new RedisServerOptions { AppendFsync = "always" });</c>
    /// </summary>
    protected RedisServer(RedisServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Port = options.Port ?? 0;
        DataDirectory = TestDirectories.Create("redis");
        Output = new OutputBuffer(1000);
    }

    /// <summary>The TCP port on 127.0.0.1 (0 until started).</summary>
    public int Port { get; private set; }

    /// <summary>"127.0.0.1:port", for StackExchange.Redis and <c>ConnectionStrings:redis</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>The working directory of redis-server, where its append-only file lives.</summary>
    public string DataDirectory { get; }

    /// <summary>The last lines redis-server logged, across restarts.</summary>
    public OutputBuffer Output { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The pid of the current redis-server, or null when it was never started.</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>Starts a server with <paramref name="options"/> and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync(RedisServerOptions? options = null)
    {
        var server = new RedisServer(options ?? new RedisServerOptions());
        try
        {
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts redis-server (on a new free port the first time, on the same port afterwards) and waits for PING.</summary>
    public async Task StartAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRunning)
        {
            throw new InvalidOperationException($"redis-server is already running on port {Port}.");
        }

        var executable = ExternalTool.Require(_options.ExecutablePath, "redis-server");

        // A free port can be taken by someone else before redis binds it; only a first start may move to another.
        var pickPort = Port == 0;
        for (var attempt = 1; ; attempt++)
        {
            if (pickPort)
            {
                Port = FreePort.Next();
            }

            _process = ChildProcess.Start(executable, BuildArguments(), null, DataDirectory, Output, $"redis-server:{Port}");
            try
            {
                await WaitUntilReadyAsync(_process);
                return;
            }
            catch (InvalidOperationException) when (pickPort && attempt < 3 && Output.Contains("Address already in use"))
            {
                Output.Add($"[test harness] port {Port} was taken; trying another.");
            }
        }
    }

    /// <summary>Stops the server: SHUTDOWN (graceful, AOF fsynced) or SIGKILL (a crash).</summary>
    public async Task StopAsync(RedisStopMode mode = RedisStopMode.Shutdown)
    {
        var process = _process;
        if (process is null || process.HasExited)
        {
            return;
        }

        if (mode == RedisStopMode.Kill)
        {
            Output.Add("[test harness] kill -9 redis-server");
            process.Kill();
            return;
        }

        Output.Add("[test harness] SHUTDOWN");
        try
        {
            await Resp.ExecuteAsync(Port, ["SHUTDOWN"], TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
            // Expected: a successful SHUTDOWN closes the connection without a reply.
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or RedisErrorException or OperationCanceledException)
        {
            Output.Add($"[test harness] SHUTDOWN failed: {ex.Message}");
        }

        if (!await process.WaitForExitAsync(TimeSpan.FromSeconds(20)))
        {
            Output.Add("[test harness] redis-server did not exit after SHUTDOWN; killing it.");
            process.Kill();
        }
    }

    /// <summary>Stops the server with <paramref name="mode"/> and starts it again on the same port and data directory.</summary>
    public async Task RestartAsync(RedisStopMode mode = RedisStopMode.Shutdown)
    {
        await StopAsync(mode);
        await StartAsync();
    }

    /// <summary>Sends one command over a fresh connection (see <see cref="Resp.ExecuteAsync"/>).</summary>
    public Task<string?> ExecuteAsync(params string[] command) => Resp.ExecuteAsync(Port, command);

    /// <summary>True when the server answers PING now.</summary>
    public Task<bool> PingAsync() => Resp.PingAsync(Port);

    /// <summary>State and log tail, for assertion messages.</summary>
    public string Describe(int maxLines = 100) =>
        _process is null ? "redis-server was never started." : _process.Describe(maxLines);

    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        TestDirectories.TryDelete(DataDirectory);
    }

    private List<string> BuildArguments()
    {
        List<string> arguments =
        [
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--dir", DataDirectory,
            "--daemonize", "no",
            "--logfile", string.Empty,
            "--save", _options.Save,
            "--appendonly", _options.AppendOnly ? "yes" : "no",
            "--appendfsync", _options.AppendFsync,
        ];
        arguments.AddRange(_options.ExtraArguments);
        return arguments;
    }

    private async Task WaitUntilReadyAsync(ChildProcess process)
    {
        var deadline = DateTime.UtcNow + _options.StartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(TimeSpan.Zero);
                throw new InvalidOperationException($"redis-server exited during start. {process.Describe()}");
            }

            if (await Resp.PingAsync(Port, TimeSpan.FromSeconds(1)))
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(
                    $"redis-server did not answer PING on port {Port} within {_options.StartTimeout.TotalSeconds:0.#} s. {process.Describe()}");
            }

            await Task.Delay(50);
        }
    }
}
