using System.Globalization;
using System.Text;

namespace LiveGrains.Testing;

/// <summary>Settings of a <see cref="NginxRtmpServer"/>.</summary>
public sealed record NginxRtmpOptions
{
    /// <summary>The RTMP application name: publishers use rtmp://127.0.0.1:port/{Application}/{stream key}.</summary>
    public string Application { get; init; } = "live";

    /// <summary>Run a master and a worker process (production-like) instead of one single process.</summary>
    public bool MasterProcess { get; init; }

    /// <summary>How often nginx-rtmp sends <c>on_update</c> for an active publish.</summary>
    public TimeSpan NotifyUpdateTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A publisher that sends nothing for this long is dropped.</summary>
    public TimeSpan DropIdlePublisher { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where Debian's libnginx-mod-rtmp installs the module.</summary>
    public string ModulePath { get; init; } = NginxRtmpServer.DefaultModulePath;

    /// <summary>The nginx binary; a bare name is looked up on PATH and in /usr/sbin.</summary>
    public string ExecutablePath { get; init; } = "nginx";

    /// <summary>
    /// More directives for the application block, e.g. <c>"record all;"</c>. <c>{rtmp_port}</c> in them becomes the
    /// server's own RTMP port (picked at start), e.g. for an <c>exec_push</c> that plays the publish back.
    /// </summary>
    public string? ExtraApplicationDirectives { get; init; }

    /// <summary>
    /// False: no <c>on_publish</c>/<c>on_publish_done</c>/<c>on_update</c> callbacks, every publish is accepted (a
    /// stand-in for a third-party ingest such as Twitch's, which a restream pushes to).
    /// </summary>
    public bool Callbacks { get; init; } = true;

    /// <summary>
    /// A loopback HTTP port for the control module (<c>location /control { rtmp_control all; }</c>); null: no HTTP
    /// server. Picked by the caller so the gateway can be told <see cref="NginxRtmpServer.ControlUrl"/> before nginx starts.
    /// </summary>
    public int? ControlPort { get; init; }

    /// <summary>
    /// The RTMP port, picked by the caller so the gateway can be told its ingest URL (<c>Ingest:RtmpBaseUrl</c>) before
    /// nginx starts; null: a free port, another one if it was taken meanwhile.
    /// </summary>
    public int? RtmpPort { get; init; }

    /// <summary>How long a start may take until the RTMP port accepts connections.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A real nginx with the RTMP module on a free loopback port, whose <c>on_publish</c>, <c>on_publish_done</c> and
/// <c>on_update</c> callbacks all go to one URL (e.g. the gateway's
/// <c>http://127.0.0.1:PORT/v1/ingest-hooks/nginx-rtmp?secret=XYZ</c>). Everything it writes lives in its own
/// scratch directory; its error log goes to <see cref="Output"/>.
/// </summary>
public sealed class NginxRtmpServer : IAsyncDisposable
{
    /// <summary>The module path of Debian 12's libnginx-mod-rtmp.</summary>
    public const string DefaultModulePath = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

    private readonly NginxRtmpOptions _options;
    private ChildProcess? _process;
    private bool _disposed;

    private NginxRtmpServer(string callbackUrl, NginxRtmpOptions options)
    {
        CallbackUrl = callbackUrl;
        _options = options;
        Directory = TestDirectories.Create("nginx-rtmp");
        ConfigPath = Path.Combine(Directory, "nginx.conf");
        Output = new OutputBuffer(2000);
    }

    /// <summary>The URL the RTMP notify callbacks are POSTed to (form-encoded; the field <c>call</c> tells which).</summary>
    public string CallbackUrl { get; }

    /// <summary>The RTMP port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    public string Application => _options.Application;

    /// <summary>The scratch directory (prefix, config, pid file).</summary>
    public string Directory { get; }

    public string ConfigPath { get; }

    /// <summary>nginx's error log (level info) and anything else it printed.</summary>
    public OutputBuffer Output { get; }

    /// <summary>rtmp://127.0.0.1:port/{Application}</summary>
    public string RtmpBaseUrl => $"rtmp://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{Application}";

    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>The control module's base URL (<c>http://127.0.0.1:port/control</c>), when <see cref="NginxRtmpOptions.ControlPort"/> is set.</summary>
    public string? ControlUrl => ControlUrlFor(_options.ControlPort);

    /// <summary>The <c>rtmp_stat</c> XML page (publishers and players of every stream), when <see cref="NginxRtmpOptions.ControlPort"/> is set.</summary>
    public string? StatUrl => _options.ControlPort is { } p ? $"http://127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}/stat" : null;

    /// <summary>The control URL nginx will serve on <paramref name="port"/> (what <c>Ingest:NginxRtmpControlUrl</c> is set to).</summary>
    public static string? ControlUrlFor(int? port) =>
        port is { } p ? $"http://127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}/control" : null;

    /// <summary>The URL a publisher pushes a stream with <paramref name="streamKey"/> to.</summary>
    public string PublishUrl(string streamKey) => $"{RtmpBaseUrl}/{streamKey}";

    /// <summary>Writes the configuration, starts nginx and waits until the RTMP port accepts connections.</summary>
    public static async Task<NginxRtmpServer> StartAsync(string callbackUrl, NginxRtmpOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(callbackUrl);
        if (!Uri.TryCreate(callbackUrl, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            // nginx-rtmp's notify module speaks plain HTTP only.
            throw new ArgumentException($"The callback must be an absolute http:// URL: {callbackUrl}", nameof(callbackUrl));
        }

        if (callbackUrl.IndexOfAny(['"', '\\', ' ', '\n']) >= 0)
        {
            throw new ArgumentException($"The callback URL cannot go into nginx.conf as is: {callbackUrl}", nameof(callbackUrl));
        }

        var server = new NginxRtmpServer(callbackUrl, options ?? new NginxRtmpOptions());
        try
        {
            await server.StartCoreAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGTERM (fast shutdown: publishers are disconnected), then SIGKILL after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (_process is not null && !_process.HasExited)
        {
            await _process.StopAsync(timeout ?? TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>SIGKILL to nginx and its workers.</summary>
    public void Kill() => _process?.Kill();

    /// <summary>State and log tail, for assertion messages.</summary>
    public string Describe(int maxLines = 100) =>
        _process is null ? "nginx was never started." : _process.Describe(maxLines);

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

        TestDirectories.TryDelete(Directory);
    }

    private async Task StartCoreAsync()
    {
        var nginx = ExternalTool.Require(_options.ExecutablePath, "nginx");
        if (!File.Exists(_options.ModulePath))
        {
            throw new InvalidOperationException(
                $"The nginx RTMP module is not installed at {_options.ModulePath}. "
                + "Run ./test.sh, which installs the test dependencies, or `apt-get install libnginx-mod-rtmp`.");
        }

        for (var attempt = 1; ; attempt++)
        {
            Port = _options.RtmpPort ?? FreePort.Next();
            await File.WriteAllTextAsync(ConfigPath, BuildConfig());

            // -e: nginx opens its default error log before reading the config; send it to stderr instead.
            _process = ChildProcess.Start(
                nginx,
                ["-p", Directory + "/", "-c", ConfigPath, "-e", "stderr"],
                null,
                Directory,
                Output,
                $"nginx-rtmp:{Port}");
            try
            {
                await WaitUntilListeningAsync(_process);
                return;
            }
            catch (InvalidOperationException) when (attempt < 3 && _options.RtmpPort is null && Output.Contains("Address already in use"))
            {
                Output.Add($"[test harness] port {Port} was taken; trying another.");
            }
        }
    }

    private string BuildConfig()
    {
        static string Seconds(TimeSpan value) =>
            Math.Max(1, (int)Math.Ceiling(value.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s";

        var config = new StringBuilder();
        config.Append("load_module ").Append(_options.ModulePath).Append(";\n");
        config.Append("daemon off;\n");
        config.Append("master_process ").Append(_options.MasterProcess ? "on" : "off").Append(";\n");
        config.Append("worker_processes 1;\n");
        config.Append("pid ").Append(Path.Combine(Directory, "nginx.pid")).Append(";\n");
        config.Append("error_log stderr info;\n");
        config.Append("events {\n    worker_connections 256;\n}\n");
        config.Append("rtmp {\n");
        config.Append("    server {\n");
        config.Append("        listen 127.0.0.1:").Append(Port.ToString(CultureInfo.InvariantCulture)).Append(";\n");
        config.Append("        chunk_size 4096;\n");
        config.Append("        notify_method post;\n");
        config.Append("        application ").Append(_options.Application).Append(" {\n");
        config.Append("            live on;\n");
        if (_options.ExtraApplicationDirectives?.Contains("record ", StringComparison.Ordinal) != true)
        {
            config.Append("            record off;\n");
        }

        if (_options.Callbacks)
        {
            config.Append("            on_publish \"").Append(CallbackUrl).Append("\";\n");
            config.Append("            on_publish_done \"").Append(CallbackUrl).Append("\";\n");
            config.Append("            on_update \"").Append(CallbackUrl).Append("\";\n");
            config.Append("            notify_update_timeout ").Append(Seconds(_options.NotifyUpdateTimeout)).Append(";\n");
        }

        config.Append("            drop_idle_publisher ").Append(Seconds(_options.DropIdlePublisher)).Append(";\n");
        if (!string.IsNullOrWhiteSpace(_options.ExtraApplicationDirectives))
        {
            config.Append("            ")
                .Append(_options.ExtraApplicationDirectives.Replace("{rtmp_port}", Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))
                .Append('\n');
        }

        config.Append("        }\n    }\n}\n");
        if (_options.ControlPort is { } controlPort)
        {
            config.Append("http {\n    access_log off;\n    server {\n");
            config.Append("        listen 127.0.0.1:").Append(controlPort.ToString(CultureInfo.InvariantCulture)).Append(";\n");
            config.Append("        location /control {\n            rtmp_control all;\n        }\n");
            config.Append("        location = /stat {\n            rtmp_stat all;\n        }\n");
            config.Append("    }\n}\n");
        }

        return config.ToString();
    }

    private async Task WaitUntilListeningAsync(ChildProcess process)
    {
        var deadline = DateTime.UtcNow + _options.StartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(TimeSpan.Zero);
                throw new InvalidOperationException($"nginx exited during start. {process.Describe()}");
            }

            if (await FreePort.IsListeningAsync(Port))
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(
                    $"nginx did not listen on port {Port} within {_options.StartTimeout.TotalSeconds:0.#} s. {process.Describe()}");
            }

            await Task.Delay(50);
        }
    }
}
