using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using LiveGrains.Bench;

if (args is ["--free-ports", var n])
{
    // For bench/run.sh: ports the OS just handed out, for redis, the gateway and its silo.
    Console.WriteLine(string.Join(' ', FreePorts(int.Parse(n, CultureInfo.InvariantCulture))));
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl-C stops measuring and still prints what was measured; bench/run.sh then stops the gateway.
    e.Cancel = !cancellation.IsCancellationRequested;
    cancellation.Cancel();
};

// One client and connection pool per gateway; setups and probes go through the first, measured runs through all.
using var gateways = new GatewayClients(options);
var client = gateways.Clients[0];
var metrics = new ProcessMetrics(options.Processes);
var report = new Report(options);

// The stateless peer (--peer-target, which bench/run.sh passes): the same load generator, concurrency and room ids,
// its own connection pool, measured right beside LiveGrains in the same invocation.
using var peer = options.PeerTarget is { } peerTarget ? new GatewayClients(options with { Targets = [peerTarget] }) : null;
var peerMetrics = new ProcessMetrics(options.PeerProcesses);

try
{
    foreach (var gateway in gateways.Clients)
    {
        await WaitForAliveAsync(gateway, metrics, options.Wait, cancellation.Token);
    }

    if (peer is not null)
    {
        await WaitForAliveAsync(peer.Clients[0], peerMetrics, options.Wait, cancellation.Token);
    }
}
catch (Exception e) when (e is TimeoutException or OperationCanceledException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

var context = new BenchContext(client, options);
var peerContext = peer is null ? null : new BenchContext(peer.Clients[0], options);
var aliveWorkload = await Scenarios.All[Scenarios.Alive](context, cancellation.Token);
var scales = new List<ScaleResult>();
foreach (var name in options.Scenarios.Prepend(Scenarios.Alive).Distinct())
{
    if (cancellation.IsCancellationRequested)
    {
        break;
    }

    Console.Error.WriteLine($"== {name}: setting up");
    try
    {
        if (name == Scale.Name)
        {
            scales.Add(await Scale.MeasureAsync(context, metrics, cancellation.Token));
            continue;
        }

        if (name == Scenarios.IdleLives)
        {
            report.AddIdle(await IdleLives.MeasureAsync(context, metrics, cancellation.Token));
            continue;
        }

        var setup = Stopwatch.StartNew();
        var workload = await Scenarios.All[name](context, cancellation.Token);
        Console.Error.WriteLine($"   set up in {setup.Elapsed.TotalSeconds:F1} s");
        if (workload.Probe)
        {
            var (status, body) = await LoadRunner.ProbeAsync(client, workload, cancellation.Token);
            if (!workload.IsSuccess(status))
            {
                using var probe = workload.NextRequest(new Worker(0, 1));
                throw ScenarioSkippedException.For(probe.Method, probe.RequestUri?.OriginalString ?? "?", status, body);
            }
        }

        var peerWorkload = peerContext is not null && Scenarios.PeerScenarios.Contains(name)
            ? await SetUpPeerAsync(name, peerContext, report, cancellation.Token)
            : null;
        for (var run = 1; run <= options.Runs; run++)
        {
            // With the peer, every other run measures it first, so that a machine getting busier or quieter during
            // the invocation does not always favour the same side.
            var peerFirst = run % 2 == 0;
            if (peerWorkload is not null && peerFirst)
            {
                await MeasurePeerAsync(name, run, peerWorkload);
            }

            if (name != Scenarios.Alive)
            {
                // The ratio's baseline is measured right before each run, so a machine that gets busier or
                // quieter during the invocation moves both figures alike.
                report.AddBaseline(name, run, await LoadRunner.RunAsync(gateways.Clients, aliveWorkload, options.Concurrency, options.Warmup, options.Duration, metrics, cancellation.Token));
            }

            var result = await LoadRunner.RunAsync(gateways.Clients, workload, options.Concurrency, options.Warmup, options.Duration, metrics, cancellation.Token);
            report.Add(name, run, result);
            if (peerWorkload is not null && !peerFirst)
            {
                await MeasurePeerAsync(name, run, peerWorkload);
            }
        }
    }
    catch (ScenarioSkippedException e)
    {
        report.Skip(name, e.Message);
    }
    catch (HttpRequestException e) when (!cancellation.IsCancellationRequested)
    {
        report.Skip(name, $"failed: {e.Message}");
    }
    catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
    {
        report.Skip(name, "interrupted");
    }

    if (metrics.Exited is { } exited)
    {
        Console.Error.WriteLine($"{metrics.Describe(exited)} exited during {name}: stopping.");
        break;
    }

    if (peerMetrics.Exited is { } peerExited)
    {
        Console.Error.WriteLine($"The peer ({peerExited}) exited during {name}: stopping.");
        break;
    }
}

report.Print(Console.Out, metrics);
foreach (var scale in scales)
{
    Scale.Print(Console.Out, scale);
}

return cancellation.IsCancellationRequested ? 130 : report.AliveMeasured ? 0 : 1;

// The peer measured like LiveGrains: its own /alive right before, then the scenario, same concurrency and windows.
async Task MeasurePeerAsync(string name, int run, Workload peerWorkload)
{
    var clients = peer!.Clients;
    if (name != Scenarios.Alive)
    {
        report.AddPeerBaseline(name, run, await LoadRunner.RunAsync(clients, aliveWorkload, options.Concurrency, options.Warmup, options.Duration, peerMetrics, cancellation.Token));
    }

    report.AddPeer(name, run, await LoadRunner.RunAsync(clients, peerWorkload, options.Concurrency, options.Warmup, options.Duration, peerMetrics, cancellation.Token));
}

// The same setup against the peer (same room ids, its lives from its own go-live answers); a failure there leaves
// LiveGrains' rows without peer figures instead of skipping the scenario.
static async Task<Workload?> SetUpPeerAsync(string name, BenchContext peerContext, Report report, CancellationToken cancellationToken)
{
    Console.Error.WriteLine($"   setting up {name} on the peer");
    try
    {
        var setup = Stopwatch.StartNew();
        var workload = await Scenarios.All[name](peerContext, cancellationToken);
        var (status, body) = await LoadRunner.ProbeAsync(peerContext.Client, workload, cancellationToken);
        if (!workload.IsSuccess(status))
        {
            using var probe = workload.NextRequest(new Worker(0, 1));
            throw ScenarioSkippedException.For(probe.Method, probe.RequestUri?.OriginalString ?? "?", status, body);
        }

        Console.Error.WriteLine($"   peer set up in {setup.Elapsed.TotalSeconds:F1} s");
        return workload;
    }
    catch (Exception e) when (e is ScenarioSkippedException or HttpRequestException)
    {
        report.SkipPeer(name, e.Message);
        return null;
    }
}

static async Task WaitForAliveAsync(HttpClient client, ProcessMetrics metrics, TimeSpan wait, CancellationToken cancellationToken)
{
    var deadline = DateTime.UtcNow + wait;
    var last = "no answer";
    while (DateTime.UtcNow < deadline)
    {
        if (metrics.Exited is { } exited)
        {
            throw new TimeoutException($"{metrics.Describe(exited)} exited before GET /alive answered 200.");
        }

        try
        {
            using var response = await client.GetAsync("/alive", cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            last = $"status {(int)response.StatusCode}";
        }
        catch (HttpRequestException e)
        {
            last = e.Message;
        }

        await Task.Delay(250, cancellationToken);
    }

    throw new TimeoutException($"GET {client.BaseAddress}alive did not answer 200 within {wait.TotalSeconds:F0} s ({last}).");
}

static int[] FreePorts(int count)
{
    // Hold every listener until all are chosen so that the OS does not hand out the same port twice.
    var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
    listeners.ForEach(l => l.Start());
    var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
    listeners.ForEach(l => l.Stop());
    return ports;
}

/// <summary>The command line; bench/run.sh passes its arguments through and adds --target and --pid (one or several).</summary>
public sealed record BenchOptions
{
    public const string Usage = """
        usage: LiveGrains.Bench --target http://host:port [scenario ...] [options]
          scenarios   alive golive join-spread like-spread join-hot activity-batch callbacks callbacks-drop million-viewers transitions webhooks
                      golive-token join-spread-token idle-lives (default: these)
                      golive-limited join-spread-limited (only named: need a gateway with rate limits on)
                      scale (only named: 1,000,000 rooms and 100,000 lives in one tenant, then the "live now" listing)
          --duration S      measured seconds per run (20)        --warmup S       unmeasured seconds first (3)
          --runs N          runs per scenario, median shown (1)  --concurrency N  workers and connections (64)
          --rooms N         rooms, lives and streams set up (10000)
          --batch N         ids per activity-batch request (1000)
          --viewers N       million-viewers: viewers (1000000)   --hold S         million-viewers: seconds held (60)
          --pid [NAME=]PID[,...]  the gateway's process, for the CPU and memory columns; several (repeat, or
                            comma-separated: a cluster's silos and gateways) are summed, NAME labels them
          --target URL[,URL...]   several gateways (repeat, or comma-separated): workers are bound to them
                            round-robin, one connection pool each; setups go through the first
          --lives N         idle-lives: lives put on air (100000)  --idle S     idle-lives: measured idle seconds (30)
          --settle S        idle-lives: seconds from the end of the set-up to the steady-state windows (200: a room's
                            idle collection age, 120 s, plus Orleans' collection quantum, 60 s, and a margin)
          --rooms N         scale: rooms created (1000000 when not given)   --lives N  scale: lives on air (100000)
          --join-rate N     scale: joins a second beside the measured windows (500)
          --list-concurrency N  scale: workers sampling the listing and /alive (4)
          --peer-target URL the stateless peer: alive, golive, join-spread and join-hot are also measured against it
          --peer-pid PID    the peer's process, for its CPU and memory
          --note TEXT       a line under the table's title (bench/run.sh: which gateway configuration it measured)
          --drop-control-port PORT  callbacks-drop: the port of the nginx-rtmp control stub on 127.0.0.1 (the gateway's
                            Ingest__NginxRtmpControlUrl is http://127.0.0.1:PORT/control; bench/run.sh sets both)
          --api-key KEY     (benchkey)   --secret S  ingest callback secret (benchsecret)   --wait S  for /alive (180)
        """;

    /// <summary>The gateways measured; worker i sends through <c>Targets[i % Targets.Count]</c>.</summary>
    public required IReadOnlyList<Uri> Targets { get; init; }

    /// <summary>The first gateway: setups and probes go through it.</summary>
    public Uri Target => Targets[0];

    /// <summary>The processes whose CPU and memory are summed into the table (none: those columns stay empty).</summary>
    public IReadOnlyList<MeasuredProcess> Processes { get; init; } = [];

    /// <summary>The stateless peer measured beside the targets, or null.</summary>
    public Uri? PeerTarget { get; init; }

    /// <summary>The peer's process, for its CPU and memory columns.</summary>
    public IReadOnlyList<MeasuredProcess> PeerProcesses { get; init; } = [];

    public IReadOnlyList<string> Scenarios { get; init; } = LiveGrains.Bench.Scenarios.Names;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    public int Runs { get; init; } = 1;

    public int Concurrency { get; init; } = 64;

    public int Rooms { get; init; } = 10_000;

    /// <summary>Whether --rooms was given: scale then builds that many rooms instead of its own default.</summary>
    public bool RoomsGiven { get; init; }

    /// <summary>scale: the rooms built, <c>--rooms</c> or <see cref="Scale.DefaultRooms"/>.</summary>
    public int ScaleRooms => RoomsGiven ? Rooms : Scale.DefaultRooms;

    /// <summary>scale: joins a second sent beside each measured window (paced, an open loop).</summary>
    public int JoinRate { get; init; } = 500;

    /// <summary>scale: closed-loop workers sampling the listing and /alive in the measured windows.</summary>
    public int ListConcurrency { get; init; } = 4;

    public int Batch { get; init; } = 1_000;

    public int Viewers { get; init; } = 1_000_000;

    public TimeSpan Hold { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>idle-lives: how many lives go on air (one per room).</summary>
    public int Lives { get; init; } = 100_000;

    /// <summary>idle-lives: the window without traffic in which the gateway's CPU is measured.</summary>
    public TimeSpan Idle { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// idle-lives: from the end of the set-up to the steady-state windows. Idle rooms leave memory after their collection
    /// age (<c>Rooms:IdleCollectionSeconds</c>, 120 s) plus up to one collection quantum (60 s), so the cost of a live
    /// right after its go-live and in the steady state differ; both are reported.
    /// </summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(200);

    public string ApiKey { get; init; } = "benchkey";

    /// <summary>A line printed under the table's title, or null.</summary>
    public string? Note { get; init; }

    public string Secret { get; init; } = "benchsecret";

    public TimeSpan Wait { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>callbacks-drop: where this process serves the nginx-rtmp control stub (127.0.0.1), or null: skipped.</summary>
    public int? DropControlPort { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        var scenarios = new List<string>();
        var values = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                scenarios.Add(LiveGrains.Bench.Scenarios.Exists(arg)
                    ? arg
                    : throw new ArgumentException($"unknown scenario '{arg}'"));
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var (key, value) = equals > 0 ? (arg[2..equals], arg[(equals + 1)..])
                : i + 1 < args.Length ? (arg[2..], args[++i])
                : throw new ArgumentException($"{arg} needs a value");
            // --target and --pid may be repeated; their values add up like a comma-separated list.
            values[key] = key is "target" or "pid" && values.TryGetValue(key, out var earlier) ? $"{earlier},{value}" : value;
        }

        int Int(string key, int fallback) => values.Remove(key, out var v)
            ? int.TryParse(v, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"--{key} wants a positive whole number, not '{v}'")
            : fallback;
        TimeSpan Seconds(string key, TimeSpan fallback) => values.Remove(key, out var v)
            ? double.TryParse(v, CultureInfo.InvariantCulture, out var s) && s >= 0 ? TimeSpan.FromSeconds(s) : throw new ArgumentException($"--{key} wants seconds, not '{v}'")
            : fallback;
        string Text(string key, string fallback) => values.Remove(key, out var v) ? v : fallback;
        static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } items
            ? items
            : throw new ArgumentException($"an empty list: '{value}'");
        static MeasuredProcess Process(string item)
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            var (name, pid) = equals > 0 ? (item[..equals], item[(equals + 1)..]) : (null, item);
            return int.TryParse(pid, CultureInfo.InvariantCulture, out var n) && n > 0
                ? new MeasuredProcess(name, n)
                : throw new ArgumentException($"--pid wants [NAME=]PID with a positive whole number, not '{item}'");
        }

        var defaults = new BenchOptions { Targets = [new Uri("http://127.0.0.1")] };
        var options = new BenchOptions
        {
            Targets = values.Remove("target", out var targets)
                ? [.. List(targets).Select(t => Uri.TryCreate(t, UriKind.Absolute, out var uri) ? uri : throw new ArgumentException($"--target wants http://host:port, not '{t}'"))]
                : throw new ArgumentException("--target http://host:port is required"),
            Processes = values.Remove("pid", out var pids) ? [.. List(pids).Select(Process)] : [],
            PeerTarget = values.Remove("peer-target", out var peerTarget)
                ? Uri.TryCreate(peerTarget, UriKind.Absolute, out var peerUri) ? peerUri : throw new ArgumentException($"--peer-target wants http://host:port, not '{peerTarget}'")
                : null,
            PeerProcesses = values.Remove("peer-pid", out var peerPid) ? [Process($"peer={peerPid}")] : [],
            Scenarios = scenarios.Count > 0 ? scenarios : defaults.Scenarios,
            Duration = Seconds("duration", defaults.Duration),
            Warmup = Seconds("warmup", defaults.Warmup),
            Runs = Int("runs", defaults.Runs),
            Concurrency = Int("concurrency", defaults.Concurrency),
            RoomsGiven = values.ContainsKey("rooms"),
            Rooms = Int("rooms", defaults.Rooms),
            JoinRate = Int("join-rate", defaults.JoinRate),
            ListConcurrency = Int("list-concurrency", defaults.ListConcurrency),
            Batch = Int("batch", defaults.Batch),
            Viewers = Int("viewers", defaults.Viewers),
            Hold = Seconds("hold", defaults.Hold),
            Lives = Int("lives", defaults.Lives),
            Idle = Seconds("idle", defaults.Idle),
            Settle = Seconds("settle", defaults.Settle),
            ApiKey = Text("api-key", defaults.ApiKey),
            Note = values.Remove("note", out var note) ? note : null,
            Secret = Text("secret", defaults.Secret),
            Wait = Seconds("wait", defaults.Wait),
            DropControlPort = values.Remove("drop-control-port", out var controlPort)
                ? int.TryParse(controlPort, CultureInfo.InvariantCulture, out var cp) && cp is > 0 and <= 65_535 ? cp : throw new ArgumentException($"--drop-control-port wants a port, not '{controlPort}'")
                : null,
        };
        return values.Count == 0 ? options : throw new ArgumentException($"unknown option --{values.Keys.First()}");
    }
}

/// <summary>One <see cref="HttpClient"/> and connection pool per target gateway, disposed together.</summary>
public sealed class GatewayClients : IDisposable
{
    public GatewayClients(BenchOptions options)
    {
        Clients = [.. options.Targets.Select(target =>
        {
            var handler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = options.Concurrency,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                UseCookies = false,
                UseProxy = false,
                AutomaticDecompression = DecompressionMethods.None,
            };
            var client = new HttpClient(handler, disposeHandler: true) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            return client;
        })];
    }

    public IReadOnlyList<HttpClient> Clients { get; }

    public void Dispose()
    {
        foreach (var client in Clients)
        {
            client.Dispose();
        }
    }
}
