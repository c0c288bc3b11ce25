using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace LiveGrains.Testing;

/// <summary>How <see cref="AzuriteServer.StopAsync"/> ends the emulator.</summary>
public enum AzuriteStopMode
{
    /// <summary>SIGTERM: Azurite closes its servers and saves its metadata database, then exits.</summary>
    Graceful,

    /// <summary>SIGKILL (kill -9): a crash.</summary>
    Kill,
}

/// <summary>Settings of an <see cref="AzuriteServer"/>.</summary>
public sealed record AzuriteServerOptions
{
    /// <summary>The azurite release installed with npm when none is found.</summary>
    public const string PinnedVersion = "3.37.0";

    /// <summary>
    /// The azurite executable: a path, or null to look for <c>azurite</c> on PATH (when <see cref="SearchPath"/>), then in
    /// <see cref="InstallDirectory"/>, and to install it there with npm when it is in neither.
    /// </summary>
    public string? ExecutablePath { get; init; }

    /// <summary>Whether a null <see cref="ExecutablePath"/> looks on PATH first (false forces the local install).</summary>
    public bool SearchPath { get; init; } = true;

    /// <summary>
    /// The npm prefix azurite is installed into when missing: <c>$LIVEGRAINS_TOOLS/azurite-&lt;version&gt;</c>, else
    /// <c>~/.cache/livegrains/azurite-&lt;version&gt;</c>, kept across runs so only the first one downloads it.
    /// </summary>
    public string InstallDirectory { get; init; } = DefaultInstallDirectory();

    /// <summary>The npm client used to install azurite; a bare name is looked up on PATH.</summary>
    public string NpmPath { get; init; } = "npm";

    /// <summary><c>--inMemoryPersistence</c>: nothing reaches the disk, so a restart starts empty.</summary>
    public bool InMemoryPersistence { get; init; }

    /// <summary>More arguments for azurite.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>How long a start may take until all three services answer HTTP.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the npm install of a missing azurite may take.</summary>
    public TimeSpan InstallTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The pause before a failed npm install is run again.</summary>
    public TimeSpan InstallRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    private static string DefaultInstallDirectory()
    {
        var root = Environment.GetEnvironmentVariable("LIVEGRAINS_TOOLS");
        if (string.IsNullOrWhiteSpace(root))
        {
            var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            root = Path.Combine(
                string.IsNullOrWhiteSpace(cache) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : cache,
                "livegrains");
        }

        return Path.Combine(root, "azurite-" + PinnedVersion);
    }
}

/// <summary>
/// A real Azurite (the Azure Storage emulator, from npm) on three free loopback ports (blob, queue, table) with its own
/// workspace directory. It can be stopped gracefully or killed and started again on the same ports and data, so tests
/// can check what survives. When azurite is not installed it is installed with npm; without npm it throws. It never
/// skips. Use it directly (<c>await using var azurite = await AzuriteServer.StartAsync();</c>) or as an xunit fixture.
/// </summary>
public class AzuriteServer : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>Azurite's one well-known development account (public knowledge, like its key).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const int InstallAttempts = 3;

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly AzuriteServerOptions _options;
    private ChildProcess? _process;
    private bool _disposed;

    /// <summary>A server with the default options; xunit fixtures need this single public constructor.</summary>
    public AzuriteServer()
        : this(new AzuriteServerOptions())
    {
    }

    /// <summary>A server with other options; derive from it for a fixture with them.</summary>
    protected AzuriteServer(AzuriteServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        DataDirectory = TestDirectories.Create("azurite");
        Output = new OutputBuffer(1000);
    }

    public int BlobPort { get; private set; }

    public int QueuePort { get; private set; }

    public int TablePort { get; private set; }

    /// <summary>A connection string for the Azure SDK clients and <c>ConnectionStrings:azure-storage</c>.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};"
        + $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};"
        + $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};"
        + $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    /// <summary>Azurite's workspace (<c>--location</c>): its metadata databases and blob extents.</summary>
    public string DataDirectory { get; }

    /// <summary>The azurite executable that runs (known after the first start).</summary>
    public string? ExecutablePath { get; private set; }

    /// <summary>The last lines azurite logged, across restarts, and what the harness did.</summary>
    public OutputBuffer Output { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The pid of the current azurite process, or null when it was never started.</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>Starts a server with <paramref name="options"/> and waits until its three services answer.</summary>
    public static async Task<AzuriteServer> StartAsync(AzuriteServerOptions? options = null)
    {
        var server = new AzuriteServer(options ?? new AzuriteServerOptions());
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

    /// <summary>
    /// The azurite executable for <paramref name="options"/>: the given path, else on PATH, else in the install
    /// directory, installing it there with npm first when it is missing.
    /// </summary>
    public static async Task<string> FindOrInstallAsync(AzuriteServerOptions options, OutputBuffer? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ExecutablePath is not null)
        {
            return ExternalTool.Find(options.ExecutablePath)
                ?? throw new InvalidOperationException($"azurite was not found at '{options.ExecutablePath}'.");
        }

        if (options.SearchPath && ExternalTool.Find("azurite") is { } onPath)
        {
            return onPath;
        }

        var local = Path.Combine(options.InstallDirectory, "node_modules", ".bin", "azurite");
        if (File.Exists(local))
        {
            return local;
        }

        // One install at a time: in this process (the gate) and across test processes (the lock file).
        await InstallGate.WaitAsync();
        try
        {
            Directory.CreateDirectory(options.InstallDirectory);
            await using var lockFile = await AcquireLockAsync(Path.Combine(options.InstallDirectory, ".install.lock"), options.InstallTimeout);
            if (File.Exists(local))
            {
                return local;
            }

            var npm = ExternalTool.Find(options.NpmPath) ?? throw new InvalidOperationException(
                $"azurite is not installed and npm ('{options.NpmPath}') is not there to install it. The tests need it: run ./test.sh, "
                + $"which installs it, or `apt-get install nodejs npm && npm install -g azurite@{AzuriteServerOptions.PinnedVersion}`.");
            var output = log ?? new OutputBuffer(200);
            output.Add($"[test harness] azurite is missing: npm install --prefix {options.InstallDirectory} azurite@{AzuriteServerOptions.PinnedVersion}");
            // A registry hiccup (a reset connection, a 5xx) fails an install now and then: npm retries each fetch, and a
            // failed install is run again, up to InstallAttempts times, before the test is failed.
            for (var attempt = 1; ; attempt++)
            {
                await using var install = ChildProcess.Start(
                    npm,
                    ["install", "--prefix", options.InstallDirectory, "--no-audit", "--no-fund", "--loglevel=error", "--fetch-retries=5",
                        "azurite@" + AzuriteServerOptions.PinnedVersion],
                    null,
                    options.InstallDirectory,
                    output,
                    "npm install azurite");
                if (!await install.WaitForExitAsync(options.InstallTimeout))
                {
                    throw new TimeoutException($"npm install azurite did not finish within {options.InstallTimeout.TotalMinutes:0} min. {install.Describe()}");
                }

                if (install.ExitCode == 0 && File.Exists(local))
                {
                    break;
                }

                if (attempt >= InstallAttempts)
                {
                    throw new InvalidOperationException(
                        $"npm install azurite failed {attempt} times (last exit {install.ExitCode}); {local} is missing. {install.Describe()}");
                }

                output.Add($"[test harness] npm install azurite failed (exit {install.ExitCode}); attempt {attempt + 1} of {InstallAttempts} in {options.InstallRetryDelay.TotalSeconds:0.#} s");
                await Task.Delay(options.InstallRetryDelay);
            }

            return local;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>Starts azurite (on new free ports the first time, the same ports afterwards) and waits until it answers.</summary>
    public async Task StartAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRunning)
        {
            throw new InvalidOperationException($"azurite is already running (blob port {BlobPort}).");
        }

        ExecutablePath ??= await FindOrInstallAsync(_options, Output);

        // Free ports can be taken by someone else before azurite binds them; only a first start may move.
        var pickPorts = BlobPort == 0;
        for (var attempt = 1; ; attempt++)
        {
            if (pickPorts)
            {
                (BlobPort, QueuePort, TablePort) = (FreePort.Next(), FreePort.Next(), FreePort.Next());
            }

            _process = ChildProcess.Start(ExecutablePath, BuildArguments(), null, DataDirectory, Output, $"azurite:{BlobPort}");
            try
            {
                await WaitUntilReadyAsync(_process);
                return;
            }
            catch (InvalidOperationException) when (pickPorts && attempt < 3 && Output.Contains("EADDRINUSE"))
            {
                Output.Add($"[test harness] a port of {BlobPort}/{QueuePort}/{TablePort} was taken; trying others.");
            }
        }
    }

    /// <summary>Stops azurite: SIGTERM (graceful, its metadata saved) or SIGKILL (a crash).</summary>
    public async Task StopAsync(AzuriteStopMode mode = AzuriteStopMode.Graceful)
    {
        var process = _process;
        if (process is null || process.HasExited)
        {
            return;
        }

        if (mode == AzuriteStopMode.Kill)
        {
            Output.Add("[test harness] kill -9 azurite");
            process.Kill();
            return;
        }

        Output.Add("[test harness] SIGTERM azurite");
        await process.StopAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>Stops the server with <paramref name="mode"/> and starts it again on the same ports and workspace.</summary>
    public async Task RestartAsync(AzuriteStopMode mode = AzuriteStopMode.Graceful)
    {
        await StopAsync(mode);
        await StartAsync();
    }

    /// <summary>True when all three services answer HTTP now (any status: an unsigned request gets 400 or 403).</summary>
    public async Task<bool> IsAnsweringAsync()
    {
        foreach (var port in new[] { BlobPort, QueuePort, TablePort })
        {
            if (!await AnswersHttpAsync(port))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>State and log tail, for assertion messages.</summary>
    public string Describe(int maxLines = 100) =>
        _process is null ? "azurite was never started. " + Output.Tail(maxLines) : _process.Describe(maxLines);

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
            "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(CultureInfo.InvariantCulture),

            // The Azure SDK the Orleans providers bring may speak a newer REST API version than this azurite knows.
            "--skipApiVersionCheck",
            "--loose",

            // Account name from the path (http://127.0.0.1:port/devstoreaccount1), never from the host name.
            "--disableProductStyleUrl",

            // The machine may have no outbound network; telemetry would only retry in the background.
            "--disableTelemetry",
            "--silent",
        ];
        // Azurite refuses --location with --inMemoryPersistence; it runs in DataDirectory either way.
        arguments.AddRange(_options.InMemoryPersistence ? ["--inMemoryPersistence"] : ["--location", DataDirectory]);

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
                throw new InvalidOperationException($"azurite exited during start. {process.Describe()}");
            }

            if (await IsAnsweringAsync())
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(
                    $"azurite did not answer on ports {BlobPort}/{QueuePort}/{TablePort} within {_options.StartTimeout.TotalSeconds:0.#} s. {process.Describe()}");
            }

            await Task.Delay(100);
        }
    }

    private static async Task<bool> AnswersHttpAsync(int port)
    {
        try
        {
            using var response = await Probe.GetAsync(new Uri($"http://127.0.0.1:{port}/{AccountName}?comp=list"));
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
        {
            return false;
        }
    }

    private static async Task<FileStream> AcquireLockAsync(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)));
                return stream;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another test process is installing; it holds the file until it is done.
                await Task.Delay(500);
            }
        }
    }
}
