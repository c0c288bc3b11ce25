using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using LiveGrains.Testing;
using StackExchange.Redis;

namespace LiveGrains.Chaos;

/// <summary>One silo or gateway process of the cluster, with the ports it was given.</summary>
public sealed record ClusterNode(string Name, ServiceProcess Process, int HttpPort, int SiloPort, int GatewayPort)
{
    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";
}

/// <summary>
/// A loopback cluster of real processes: one redis-server (AOF with appendfsync always, own temp dir), N LiveGrains.Silo and M
/// LiveGrains.Gateway in client mode, each on free ports. Disposing it kills everything it started.
/// </summary>
public sealed partial class ChaosCluster : IAsyncDisposable
{
    public const string ApiKey = "chaoskey";
    public const string Tenant = "chaos";

    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Action<string> _log;
    private ConnectionMultiplexer? _redisClient;

    private ChaosCluster(RedisServer redis, string clusterId, Action<string> log)
    {
        Redis = redis;
        ClusterId = clusterId;
        _log = log;
    }

    public RedisServer Redis { get; }

    public string ClusterId { get; }

    public List<ClusterNode> Silos { get; } = [];

    public List<ClusterNode> Gateways { get; } = [];

    /// <summary>Seconds each node took to become healthy when the cluster was first started, one at a time, on an empty table.</summary>
    public Dictionary<string, double> FreshStartSeconds { get; } = [];

    /// <summary>
    /// Starts redis, the silos (one at a time, so each joins a formed cluster) and the gateways: <c>cohosted</c> gateways
    /// run a silo of their own (with <paramref name="siloEnvironment"/>), <c>client</c> gateways are Orleans clients.
    /// </summary>
    public static async Task<ChaosCluster> StartAsync(int silos, int gateways, IReadOnlyDictionary<string, string?>? siloEnvironment, Action<string> log, string gatewayMode = "cohosted")
    {
        var redis = await RedisServer.StartAsync(new RedisServerOptions { AppendOnly = true, AppendFsync = "always" });
        var clusterId = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        var cluster = new ChaosCluster(redis, clusterId, log);
        try
        {
            log($"redis-server on 127.0.0.1:{redis.Port} (AOF, appendfsync always, {redis.DataDirectory}); cluster id {clusterId}");
            for (var i = 0; i < silos; i++)
            {
                var node = cluster.CreateSilo(i, siloEnvironment);
                cluster.Silos.Add(node);
                var started = Stopwatch.StartNew();
                node.Process.Start();
                await cluster.WaitHealthyAsync(node, TimeSpan.FromSeconds(120));
                cluster.FreshStartSeconds[node.Name] = started.Elapsed.TotalSeconds;
                log($"{node.Name} up: http {node.HttpPort}, silo {node.SiloPort}, gateway {node.GatewayPort}");
            }

            for (var i = 0; i < gateways; i++)
            {
                var node = cluster.CreateGateway(i, gatewayMode, siloEnvironment);
                cluster.Gateways.Add(node);
                var started = Stopwatch.StartNew();
                node.Process.Start();
                await cluster.WaitHealthyAsync(node, TimeSpan.FromSeconds(120));
                cluster.FreshStartSeconds[node.Name] = started.Elapsed.TotalSeconds;
                log($"{node.Name} up: {node.BaseUrl}");
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The node's entry assembly: the Release build, or with <c>CHAOS_NODES_DIRECTORY</c> (bench/chaos.sh --ready-to-run)
    /// the ReadyToRun publish in <c>{directory}/{project}/</c>.
    /// </summary>
    private static string NodeDll(string project) =>
        Environment.GetEnvironmentVariable("CHAOS_NODES_DIRECTORY") is { Length: > 0 } directory
            ? Path.Combine(directory, project, project + ".dll")
            : RepoPaths.ProjectDll(project);

    private Dictionary<string, string?> CommonEnvironment(int httpPort) => new()
    {
        ["ConnectionStrings__redis"] = Redis.ConnectionString,
        ["Orleans__ClusterId"] = ClusterId,
        ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}",

        // The silo's appsettings.json sets "Urls", which wins over ASPNETCORE_URLS; the plain variable wins over both.
        ["Urls"] = $"http://127.0.0.1:{httpPort}",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",

        // Every log line carries its UTC time, so a node's log can be laid against the harness's timeline.
        ["Logging__Console__TimestampFormat"] = "HH:mm:ss.fff ",
        ["Logging__Console__UseUtcTimestamp"] = "true",

        // A live's statistics log their activation, freeze and last write (Debug): a shortfall found by the checker can be traced.
        ["Logging__LogLevel__LiveGrains.Grains.Stats.LiveStatsGrain"] = "Debug",
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
    };

    private ClusterNode CreateSilo(int index, IReadOnlyDictionary<string, string?>? extra)
    {
        int http = FreePort.Next(), silo = FreePort.Next(), gateway = FreePort.Next();
        var env = CommonEnvironment(http);
        env["Orleans__SiloPort"] = silo.ToString(CultureInfo.InvariantCulture);
        env["Orleans__GatewayPort"] = gateway.ToString(CultureInfo.InvariantCulture);
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            env[k] = v;
        }

        var name = $"silo{index}";
        return new ClusterNode(name, new ServiceProcess(NodeDll("LiveGrains.Silo"), env, name: name), http, silo, gateway);
    }

    private ClusterNode CreateGateway(int index, string mode, IReadOnlyDictionary<string, string?>? siloEnvironment)
    {
        var http = FreePort.Next();
        var env = CommonEnvironment(http);
        env["Gateway__Mode"] = mode;
        env[$"Auth__ApiKeys__{ApiKey}"] = Tenant;

        // The chaos load comes from one key, far over the default per-key limit; rate limits are not what it tests.
        env["RateLimits__Enabled"] = "false";
        int silo = 0, gateway = 0;
        if (string.Equals(mode, "cohosted", StringComparison.OrdinalIgnoreCase))
        {
            // A co-hosted gateway is a silo too: its own ports, and the same silo settings as the silo-only nodes.
            silo = FreePort.Next();
            gateway = FreePort.Next();
            env["Orleans__SiloPort"] = silo.ToString(CultureInfo.InvariantCulture);
            env["Orleans__GatewayPort"] = gateway.ToString(CultureInfo.InvariantCulture);
            foreach (var (k, v) in siloEnvironment ?? new Dictionary<string, string?>())
            {
                env[k] = v;
            }
        }

        var name = $"gateway{index}";
        return new ClusterNode(name, new ServiceProcess(NodeDll("LiveGrains.Gateway"), env, name: name), http, silo, gateway);
    }

    /// <summary>
    /// Gives every stopped silo (co-hosted gateways included) new Orleans ports for its next start, as a node rescheduled
    /// on another host would get: its old membership row then belongs to nobody and must be evicted, not replaced.
    /// </summary>
    public void MoveStoppedSilosToNewPorts()
    {
        foreach (var list in new[] { Silos, Gateways })
        {
            for (var i = 0; i < list.Count; i++)
            {
                var node = list[i];
                if (node.SiloPort == 0 || node.Process.IsRunning)
                {
                    continue;
                }

                int silo = FreePort.Next(), gateway = FreePort.Next();
                node.Process.Environment["Orleans__SiloPort"] = silo.ToString(CultureInfo.InvariantCulture);
                node.Process.Environment["Orleans__GatewayPort"] = gateway.ToString(CultureInfo.InvariantCulture);
                list[i] = node with { SiloPort = silo, GatewayPort = gateway };
            }
        }
    }

    /// <summary>
    /// Polls until every gateway answers an API read (<c>GET /v1/rooms/{roomId}</c>) with 200: the cluster serves.
    /// </summary>
    public async Task WaitServingAsync(string roomId, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiKey);
        await Eventually.TrueAsync(
            async () =>
            {
                foreach (var gateway in Gateways)
                {
                    using var response = await http.GetAsync($"{gateway.BaseUrl}/v1/rooms/{roomId}");
                    if (!response.IsSuccessStatusCode)
                    {
                        return false;
                    }
                }

                return true;
            },
            timeout,
            $"every gateway answers GET /v1/rooms/{roomId} with 200",
            TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Polls <c>/health</c> (cluster and Redis checks) until it answers 200.</summary>
    public async Task WaitHealthyAsync(ClusterNode node, TimeSpan timeout) =>
        await node.Process.WaitForHttpAsync($"{node.BaseUrl}/health", timeout);

    public async Task<bool> IsHealthyAsync(ClusterNode node)
    {
        try
        {
            using var response = await Probe.GetAsync($"{node.BaseUrl}/health");
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>Every node answers /health and the membership table shows exactly the running silos as Active.</summary>
    public async Task WaitSettledAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        await Eventually.TrueAsync(
            async () =>
            {
                foreach (var node in Silos.Concat(Gateways))
                {
                    if (!await IsHealthyAsync(node))
                    {
                        return false;
                    }
                }

                var members = await ReadMembershipAsync();
                return Silos.Concat(Gateways).Where(n => n.SiloPort != 0).All(s => members.Any(m => m.SiloPort == s.SiloPort && m.Status == "Active"));
            },
            timeout,
            "every silo and gateway is healthy and every silo is Active in the membership table",
            TimeSpan.FromMilliseconds(500),
            cancellationToken);
        _log($"cluster settled in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>One row of the Orleans membership table in Redis.</summary>
    public sealed record MemberRow(string Field, int SiloPort, long Generation, string Status);

    /// <summary>Reads the Orleans membership table from Redis (hash <c>{serviceId}/members/{clusterId}</c>).</summary>
    public async Task<IReadOnlyList<MemberRow>> ReadMembershipAsync()
    {
        try
        {
            _redisClient ??= await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
            {
                EndPoints = { Redis.ConnectionString },
                AbortOnConnectFail = false,
                ConnectTimeout = 2000,
                SyncTimeout = 2000,
            });
            var db = _redisClient.GetDatabase();
            var entries = await db.HashGetAllAsync($"livegrains/members/{ClusterId}");
            var rows = new List<MemberRow>();
            foreach (var entry in entries)
            {
                var field = entry.Name.ToString();
                var address = SiloAddressPattern().Match(field);
                if (!address.Success)
                {
                    continue;
                }

                var value = entry.Value.ToString();
                var status = StatusPattern().Match(value) is { Success: true } m ? Normalize(m.Groups[1].Value) : "?";
                rows.Add(new MemberRow(field, int.Parse(address.Groups[1].Value, CultureInfo.InvariantCulture),
                    long.Parse(address.Groups[2].Value, CultureInfo.InvariantCulture), status));
            }

            return rows;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return [];
        }
    }

    private static string Normalize(string status) => status.Trim('"') switch
    {
        "3" => "Active",
        "6" => "Dead",
        "4" => "ShuttingDown",
        "5" => "Stopping",
        "2" => "Joining",
        var s => s,
    };

    /// <summary>The membership row of the running incarnation of <paramref name="silo"/> (the newest generation on its port).</summary>
    public async Task<MemberRow?> CurrentRowAsync(ClusterNode silo) =>
        (await ReadMembershipAsync()).Where(r => r.SiloPort == silo.SiloPort).MaxBy(r => r.Generation);

    /// <summary>Where the output of every process is written when the cluster stops.</summary>
    public string LogDirectory { get; } = Path.Combine(Path.GetTempPath(), "livegrains-chaos", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Gateways.Concat(Silos))
        {
            try
            {
                System.IO.Directory.CreateDirectory(LogDirectory);
                await File.WriteAllTextAsync(Path.Combine(LogDirectory, node.Name + ".log"), node.Process.Output.ToString());
            }
            catch (IOException)
            {
            }

            try
            {
                await node.Process.DisposeAsync();
            }
            catch (Exception ex)
            {
                _log($"could not stop {node.Name}: {ex.Message}");
            }
        }

        _redisClient?.Dispose();
        await Redis.DisposeAsync();
        _log($"process output: {LogDirectory}");
    }

    [GeneratedRegex(@":(\d+)[:@](\d+)$")]
    private static partial Regex SiloAddressPattern();

    [GeneratedRegex(@"""Status""\s*:\s*(""?\w+""?)")]
    private static partial Regex StatusPattern();
}
