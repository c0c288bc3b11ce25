using System.Net;

namespace LiveGrains.Testing;

/// <summary>
/// A .NET service (e.g. LiveGrains.Silo or LiveGrains.Gateway) run as a real child process with <c>dotnet &lt;dll&gt;</c>,
/// so tests can kill it, stop it with SIGTERM and restart it like an operator would. Its output is kept in a bounded
/// buffer that failure messages include.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    // Probes go to loopback only: never through a proxy from the environment.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };

    private ChildProcess? _current;
    private int _starts;

    /// <param name="dllPath">The built dll, usually from <see cref="RepoPaths.ProjectDll"/>.</param>
    /// <param name="environment">Variables set for the process on top of the inherited ones; null removes one.</param>
    /// <param name="arguments">Command-line arguments after the dll.</param>
    /// <param name="name">A label for diagnostics; defaults to the dll's name.</param>
    /// <param name="outputCapacity">How many output lines to keep.</param>
    public ServiceProcess(
        string dllPath,
        IEnumerable<KeyValuePair<string, string?>>? environment = null,
        IEnumerable<string>? arguments = null,
        string? name = null,
        int outputCapacity = 4000)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dllPath);
        if (!File.Exists(dllPath))
        {
            throw new FileNotFoundException($"{dllPath} does not exist: build the solution first.", dllPath);
        }

        DllPath = Path.GetFullPath(dllPath);
        Name = name ?? Path.GetFileNameWithoutExtension(dllPath);
        Environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (key, value) in environment ?? [])
        {
            Environment[key] = value;
        }

        Arguments = [.. arguments ?? []];

        // ASP.NET Core takes its content root (appsettings.json) from the working directory.
        WorkingDirectory = Path.GetDirectoryName(DllPath)!;
        Output = new OutputBuffer(outputCapacity);
    }

    public string DllPath { get; }

    public string Name { get; }

    /// <summary>The environment for the next start; change it before <see cref="RestartAsync"/> to restart differently.</summary>
    public IDictionary<string, string?> Environment { get; }

    /// <summary>The arguments for the next start.</summary>
    public IList<string> Arguments { get; }

    public string WorkingDirectory { get; set; }

    /// <summary>The last output lines of every run of this service (restarts are marked).</summary>
    public OutputBuffer Output { get; }

    /// <summary>The pid of the current run, or null before the first start.</summary>
    public int? ProcessId => _current?.Id;

    public bool IsRunning => _current is { HasExited: false };

    /// <summary>The exit code of the current run once it has exited.</summary>
    public int? ExitCode => _current?.ExitCode;

    /// <summary>Creates and starts a service from a built dll.</summary>
    public static ServiceProcess Start(
        string dllPath,
        IEnumerable<KeyValuePair<string, string?>>? environment = null,
        IEnumerable<string>? arguments = null,
        string? name = null)
    {
        var service = new ServiceProcess(dllPath, environment, arguments, name);
        service.Start();
        return service;
    }

    /// <summary>Creates and starts a project of the repository, e.g. <c>StartProject("LiveGrains.Gateway", ...)</c>.</summary>
    public static ServiceProcess StartProject(
        string projectName,
        IEnumerable<KeyValuePair<string, string?>>? environment = null,
        IEnumerable<string>? arguments = null,
        string? name = null) =>
        Start(RepoPaths.ProjectDll(projectName), environment, arguments, name ?? projectName);

    /// <summary>Starts the process; throws if it is already running.</summary>
    public void Start()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{Name} is already running (pid {ProcessId}).");
        }

        _starts++;
        Output.Add($"[test harness] {DateTime.UtcNow:HH:mm:ss.fff} starting {Name} (run {_starts}): dotnet {DllPath} {string.Join(' ', Arguments)}");
        _current = ChildProcess.Start(
            DotnetHost(),
            [DllPath, .. Arguments],
            Environment,
            WorkingDirectory,
            Output,
            Name);
    }

    /// <summary>
    /// Polls <paramref name="url"/> until it answers 200; throws a <see cref="TimeoutException"/> after
    /// <paramref name="timeout"/>, or at once if the process exits, with the output tail in the message.
    /// </summary>
    public async Task WaitForHttpAsync(string url, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var current = _current ?? throw new InvalidOperationException($"{Name} was never started.");
        var deadline = DateTime.UtcNow + timeout;
        var lastStatus = "no answer yet";
        while (true)
        {
            if (current.HasExited)
            {
                await current.WaitForExitAsync(TimeSpan.Zero, cancellationToken);
                throw new InvalidOperationException($"{Name} exited before {url} answered 200. {current.Describe()}");
            }

            try
            {
                using var response = await Http.GetAsync(url, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                lastStatus = $"HTTP {(int)response.StatusCode}";
            }
            catch (HttpRequestException ex)
            {
                lastStatus = ex.Message;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                lastStatus = "request timed out";
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(
                    $"{url} did not answer 200 within {timeout.TotalSeconds:0.#} s (last: {lastStatus}). {current.Describe()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>Waits until a line of output contains <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Eventually.TrueAsync(
            () => Output.Contains(text),
            timeout,
            $"{Name} prints \"{text}\". Last output:\n{Output.Tail(50)}",
            cancellationToken: cancellationToken);

    /// <summary>SIGKILL to the process tree: a crash, no graceful shutdown.</summary>
    public void Kill()
    {
        if (_current is not null)
        {
            Output.Add($"[test harness] {DateTime.UtcNow:HH:mm:ss.fff} killing {Name} (pid {_current.Id})");
            _current.Kill();
        }
    }

    /// <summary>
    /// SIGTERM (a graceful host shutdown), then waits up to <paramref name="timeout"/> (default 30 s) before killing it.
    /// Returns true when the process exited by itself.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan? timeout = null)
    {
        if (_current is null || _current.HasExited)
        {
            return true;
        }

        Output.Add($"[test harness] {DateTime.UtcNow:HH:mm:ss.fff} sending SIGTERM to {Name} (pid {_current.Id})");
        return await _current.StopAsync(timeout ?? TimeSpan.FromSeconds(30));
    }

    /// <summary>Stops the current run (SIGTERM, or SIGKILL when <paramref name="graceful"/> is false) and starts a new one.</summary>
    public async Task RestartAsync(bool graceful = true, TimeSpan? stopTimeout = null)
    {
        if (graceful)
        {
            await StopAsync(stopTimeout);
        }
        else
        {
            Kill();
        }

        Start();
    }

    /// <summary>State and output tail, for assertion messages.</summary>
    public string Describe(int maxLines = 100) =>
        _current is null ? $"{Name} was never started." : _current.Describe(maxLines);

    public override string ToString() => Describe();

    public async ValueTask DisposeAsync()
    {
        if (_current is not null)
        {
            await _current.DisposeAsync();
        }
    }

    private static string DotnetHost()
    {
        // The SDK tells test hosts which dotnet runs them; use the same one for the services.
        var hostPath = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
        {
            return hostPath;
        }

        var processPath = System.Environment.ProcessPath;
        if (processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            return processPath;
        }

        return ExternalTool.Require("dotnet", "dotnet-sdk");
    }
}
