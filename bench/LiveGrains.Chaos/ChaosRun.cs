using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace LiveGrains.Chaos;

/// <summary>What a run does to the cluster while the load runs.</summary>
public enum ChaosMode
{
    /// <summary>kill -9 a random silo every <see cref="ChaosOptions.KillInterval"/> and restart it; once kill -9 Redis and restart it.</summary>
    Kill,

    /// <summary>SIGTERM each silo in turn, wait for its exit, start it again, wait until it is back in the cluster.</summary>
    Rolling,

    /// <summary>Load only: a baseline.</summary>
    None,

    /// <summary>
    /// SIGSTOP a random silo every <see cref="ChaosOptions.KillInterval"/> until it is declared dead, SIGCONT it, and
    /// require it to stop by itself (a silo that learns it was declared dead must not serve); then restart it.
    /// </summary>
    Pause,

    /// <summary>
    /// Two total crashes, <see cref="ChaosOptions.KillInterval"/> apart: kill -9 every silo, gateway and Redis, restart
    /// Redis, then the nodes (all at once on new ports the first time, one at a time the second), and measure how long
    /// until the API answers. Runs to its end, however long the load duration.
    /// </summary>
    ColdStart,
}

public sealed record ChaosOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(120);

    public ChaosMode Mode { get; init; } = ChaosMode.Kill;

    public int Silos { get; init; } = 3;

    public int Gateways { get; init; } = 2;

    /// <summary>Closed-loop clients; modest, because two cores host five services and the load generator.</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>Shared rooms that the go-lives race on.</summary>
    public int Rooms { get; init; } = 8;

    public TimeSpan KillInterval { get; init; } = TimeSpan.FromSeconds(20);

    public bool KillRedis { get; init; } = true;

    /// <summary>
    /// <c>cohosted</c> (the production topology: each gateway runs a silo, so a call in flight to a silo declared dead
    /// fails at once) or <c>client</c> (Orleans clients, which wait the call timeout instead; docs/scale-out.md).
    /// </summary>
    public string GatewayMode { get; init; } = "cohosted";

    /// <summary><c>default</c> or <c>distributed</c> (Orleans:GrainDirectory, read by the silo host).</summary>
    public string Directory { get; init; } = "distributed";

    /// <summary>A pause between requests of one client, to keep the load modest.</summary>
    public TimeSpan ThinkTime { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Environment variables added to every silo.</summary>
    public IReadOnlyDictionary<string, string?> SiloEnvironment { get; init; } = new Dictionary<string, string?>();
}

/// <summary>Starts a cluster, drives mixed load through every gateway while the chaos runs, then checks the whole history.</summary>
public static class ChaosRun
{
    private static readonly string[] Transitions = ["ready", "start", "pause", "resume", "end", "pause", "resume"];

    public static async Task<ChaosReport> RunAsync(ChaosOptions options, Action<string> log, CancellationToken cancellationToken = default)
    {
        var history = new History();
        var siloEnv = new Dictionary<string, string?>(options.SiloEnvironment)
        {
            ["Orleans__GrainDirectory"] = options.Directory,
        };
        await using var cluster = await ChaosCluster.StartAsync(options.Silos, options.Gateways, siloEnv, log, options.GatewayMode);
        var clock = Stopwatch.StartNew();
        var client = new ChaosClient([.. cluster.Gateways.Select(g => g.BaseUrl)], history, clock);
        var runId = Guid.NewGuid().ToString("N")[..6];
        var rooms = Enumerable.Range(0, options.Rooms).Select(i => $"chaos-{runId}-{i}").ToArray();
        foreach (var room in rooms)
        {
            var op = client.NewOp("create_room", room);
            await client.SendAsync(op, HttpMethod.Post, "/v1/rooms", new Dictionary<string, object?> { ["room_id"] = room, ["takeover_policy"] = "takeover" }, 0);
            if (op.Status != 201)
            {
                throw new InvalidOperationException($"Could not create room {room}: {op.Status} {op.Code}");
            }
        }

        var activityRoute = await ProbeRouteAsync(cluster.Gateways[0].BaseUrl, "/v1/lives/{liveId}/activity");
        if (!activityRoute)
        {
            history.Skipped["viewer_activity"] = "POST /v1/lives/{id}/activity is not in the gateway's OpenAPI document (404 route missing): viewer load skipped.";
        }

        var lives = new ConcurrentDictionary<string, List<string>>();
        var liveRoom = new ConcurrentDictionary<string, string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        log($"load: {options.Concurrency} clients over {options.Gateways} {options.GatewayMode} gateways, {options.Rooms} rooms, {options.Duration.TotalSeconds:0} s, chaos {options.Mode}, directory {options.Directory}");
        var workers = Enumerable.Range(0, options.Concurrency)
            .Select(w => Task.Run(() => WorkerAsync(w, client, rooms, lives, liveRoom, activityRoute, options, stop.Token), CancellationToken.None))
            .ToArray();
        var chaos = Task.Run(() => options.Mode switch
        {
            ChaosMode.Kill => KillLoopAsync(cluster, history, clock, options, log, stop.Token),
            ChaosMode.Rolling => RollingLoopAsync(cluster, history, clock, log, stop.Token),
            ChaosMode.Pause => PauseLoopAsync(cluster, history, clock, options, log, stop.Token),
            ChaosMode.ColdStart => ColdStartLoopAsync(cluster, history, clock, options, rooms[0], log, stop.Token),
            _ => Task.CompletedTask,
        }, CancellationToken.None);

        var loadEnd = Task.Delay(options.Duration, cancellationToken);
        if (options.Mode is ChaosMode.Rolling or ChaosMode.ColdStart)
        {
            // A rolling restart, or both total crashes of cold-start mode, run to the end however long they take; the
            // load covers all of it.
            await Task.WhenAll(loadEnd, chaos);
        }
        else
        {
            await loadEnd;
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers);
        await chaos;
        var loadSeconds = clock.Elapsed.TotalSeconds;
        log($"load stopped after {loadSeconds:0} s; waiting for the cluster to settle");
        await cluster.WaitSettledAsync(TimeSpan.FromSeconds(120), cancellationToken);

        var checker = new HistoryChecker(client, history, rooms);
        var report = await checker.CheckAsync(options, loadSeconds);
        return report;
    }

    private static async Task<bool> ProbeRouteAsync(string gateway, string route)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(gateway + "/openapi/v1.json");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.TryGetProperty("paths", out var paths) && paths.TryGetProperty(route, out _);
    }

    private static async Task WorkerAsync(
        int worker,
        ChaosClient client,
        string[] rooms,
        ConcurrentDictionary<string, List<string>> lives,
        ConcurrentDictionary<string, string> liveRoom,
        bool activity,
        ChaosOptions options,
        CancellationToken stop)
    {
        var random = new Random(worker * 7919 + Environment.TickCount);
        var gateway = worker;
        while (!stop.IsCancellationRequested)
        {
            gateway++;
            var room = rooms[random.Next(rooms.Length)];
            var roll = random.Next(100);
            var live = RecentLive(lives, room, random);
            try
            {
                if (roll < 25 || live is null)
                {
                    var op = client.NewOp("go_live", room, withTitle: true);
                    var body = await client.SendAsync(op, HttpMethod.Post, $"/v1/rooms/{room}/go-live",
                        new Dictionary<string, object?> { ["title"] = op.Title, ["started_by"] = $"worker{worker}" }, gateway);
                    op.ResultLive = ChaosClient.Str(body, "live", "live_id");
                    op.ResultStatus = ChaosClient.Str(body, "live", "status");
                    op.ClosedLive = ChaosClient.Str(body, "closed_live", "live_id");
                    op.ClosedEndReason = ChaosClient.Str(body, "closed_live", "end_reason");
                    Remember(op, lives, liveRoom);
                }
                else if (roll < 33)
                {
                    var op = client.NewOp("schedule", room, withTitle: true);
                    var body = await client.SendAsync(op, HttpMethod.Post, $"/v1/rooms/{room}/lives",
                        new Dictionary<string, object?> { ["title"] = op.Title }, gateway);
                    op.ResultLive = ChaosClient.Str(body, "live_id");
                    op.ResultStatus = ChaosClient.Str(body, "status");
                    Remember(op, lives, liveRoom);
                }
                else if (roll < 63)
                {
                    var action = Transitions[random.Next(Transitions.Length)];
                    var op = client.NewOp(action, room, live);
                    var body = await client.SendAsync(op, HttpMethod.Post, $"/v1/lives/{live}/{action}",
                        new Dictionary<string, object?> { ["by"] = $"worker{worker}" }, gateway);
                    if (op.Acknowledged)
                    {
                        op.ResultLive = ChaosClient.Str(body, "live_id");
                        op.ResultStatus = ChaosClient.Str(body, "status");
                        op.ResultEndReason = ChaosClient.Str(body, "end_reason");
                    }
                }
                else if (roll < 80 || !activity)
                {
                    var readLive = random.Next(2) == 0;
                    var op = client.NewOp(readLive ? "get_live" : "get_room", room, readLive ? live : null);
                    await client.SendAsync(op, HttpMethod.Get, readLive ? $"/v1/lives/{live}" : $"/v1/rooms/{room}", null, gateway);
                }
                else
                {
                    var viewers = Enumerable.Range(0, 20).Select(_ => $"v{random.Next(1_000_000)}").Distinct().ToArray();
                    var op = client.NewOp("activity", room, live, viewers: viewers);
                    await client.SendAsync(op, HttpMethod.Post, $"/v1/lives/{live}/activity",
                        new Dictionary<string, object?> { ["joins"] = viewers, ["likes"] = 1 }, gateway);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Recorded as an attempt already; a bug in the harness must not stop the run.
                Console.Error.WriteLine($"worker {worker}: {ex.GetType().Name}: {ex.Message}");
            }

            if (options.ThinkTime > TimeSpan.Zero)
            {
                await Task.Delay(options.ThinkTime, CancellationToken.None);
            }
        }
    }

    private static string? RecentLive(ConcurrentDictionary<string, List<string>> lives, string room, Random random)
    {
        if (!lives.TryGetValue(room, out var list))
        {
            return null;
        }

        lock (list)
        {
            // Mostly the newest lives, where transitions still apply; sometimes an old one (409 expected).
            return list.Count == 0 ? null : list[Math.Max(0, list.Count - 1 - random.Next(Math.Min(list.Count, random.Next(10) == 0 ? list.Count : 3)))];
        }
    }

    private static void Remember(Op op, ConcurrentDictionary<string, List<string>> lives, ConcurrentDictionary<string, string> liveRoom)
    {
        if (op.ResultLive is null || op.Room is null)
        {
            return;
        }

        liveRoom[op.ResultLive] = op.Room;
        var list = lives.GetOrAdd(op.Room, _ => []);
        lock (list)
        {
            list.Add(op.ResultLive);
        }
    }

    private static async Task KillLoopAsync(ChaosCluster cluster, History history, Stopwatch clock, ChaosOptions options, Action<string> log, CancellationToken stop)
    {
        var random = new Random();
        var redisKillAt = options.KillRedis && options.Duration >= TimeSpan.FromSeconds(40)
            ? TimeSpan.FromSeconds(Math.Floor(options.Duration.TotalSeconds / 2 / options.KillInterval.TotalSeconds) * options.KillInterval.TotalSeconds + options.KillInterval.TotalSeconds / 2)
            : (TimeSpan?)null;
        var next = options.KillInterval;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (redisKillAt is { } r && r < next)
                {
                    await Task.Delay(Max(r - clock.Elapsed), stop);
                    redisKillAt = null;
                    history.Events.Enqueue((clock.Elapsed.TotalSeconds, "kill -9 redis-server"));
                    log($"t={clock.Elapsed.TotalSeconds:0.0}s kill -9 redis-server");
                    await cluster.Redis.StopAsync(Testing.RedisStopMode.Kill);
                    await Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None);
                    await cluster.Redis.StartAsync();
                    history.Events.Enqueue((clock.Elapsed.TotalSeconds, "redis-server restarted (same port, AOF)"));
                    log($"t={clock.Elapsed.TotalSeconds:0.0}s redis-server restarted");
                    continue;
                }

                await Task.Delay(Max(next - clock.Elapsed), stop);
                next += options.KillInterval;
                var silo = cluster.Silos[random.Next(cluster.Silos.Count)];
                var row = await cluster.CurrentRowAsync(silo);
                silo.Process.Kill();
                var killedAt = clock.Elapsed.TotalSeconds;
                history.Events.Enqueue((killedAt, $"kill -9 {silo.Name}"));

                // Measure detection (membership table says Dead), then restart; a restart on the same endpoint would
                // itself declare the old incarnation dead and hide the figure.
                var detectedAfter = await WaitDeclaredDeadAsync(cluster, row, history);
                log($"t={killedAt:0.0}s kill -9 {silo.Name}; " + (detectedAfter is { } d ? $"declared dead after {d:0.0} s" : "not declared dead within 45 s"));
                await RestartAsync(cluster, silo, history, clock, log);
            }
        }
        catch (OperationCanceledException)
        {
        }

        // The last restart may still be under way; the settle step waits for it.
        StartStoppedSilos(cluster);
        if (!cluster.Redis.IsRunning)
        {
            await cluster.Redis.StartAsync();
        }
    }

    private static async Task PauseLoopAsync(ChaosCluster cluster, History history, Stopwatch clock, ChaosOptions options, Action<string> log, CancellationToken stop)
    {
        var random = new Random();
        var next = options.KillInterval;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(Max(next - clock.Elapsed), stop);
                next += options.KillInterval;
                var silo = cluster.Silos[random.Next(cluster.Silos.Count)];
                var row = await cluster.CurrentRowAsync(silo);
                var pid = silo.Process.ProcessId ?? throw new InvalidOperationException($"{silo.Name} has no process");
                Testing.PosixSignals.Send(pid, Testing.PosixSignals.SigStop);
                var pausedAt = clock.Elapsed.TotalSeconds;
                history.Events.Enqueue((pausedAt, $"SIGSTOP {silo.Name}"));

                // Paused until the cluster declares it dead: from then on its grains may be activated elsewhere.
                var detectedAfter = await WaitDeclaredDeadAsync(cluster, row, history);
                Testing.PosixSignals.Send(pid, Testing.PosixSignals.SigCont);
                var resumedAt = clock.Elapsed.TotalSeconds;
                history.Events.Enqueue((resumedAt, $"SIGCONT {silo.Name}"));
                log($"t={pausedAt:0.0}s SIGSTOP {silo.Name}; " + (detectedAfter is { } d ? $"declared dead after {d:0.0} s, SIGCONT" : "not declared dead within 45 s, SIGCONT"));
                if (detectedAfter is null)
                {
                    history.ChaosViolations.Enqueue($"{silo.Name} paused at t={pausedAt:0.0}s was not declared dead within 45 s");
                }

                // A silo that was declared dead must stop by itself, not serve the grains that now live elsewhere.
                var exitClock = Stopwatch.StartNew();
                while (silo.Process.IsRunning && exitClock.Elapsed < TimeSpan.FromSeconds(30))
                {
                    await Task.Delay(50, CancellationToken.None);
                }

                if (silo.Process.IsRunning)
                {
                    history.ChaosViolations.Enqueue($"{silo.Name}, declared dead while paused, was still running 30 s after SIGCONT (t={resumedAt:0.0}s)");
                    silo.Process.Kill();
                }
                else
                {
                    history.FencedExitSeconds.Enqueue(exitClock.Elapsed.TotalSeconds);
                    history.ChaosNotes.Enqueue($"{silo.Name} stopped by itself {exitClock.Elapsed.TotalSeconds:0.00} s after SIGCONT (exit code {silo.Process.ExitCode})");
                    history.Events.Enqueue((clock.Elapsed.TotalSeconds, $"{silo.Name} stopped by itself (exit code {silo.Process.ExitCode})"));
                }

                await RestartAsync(cluster, silo, history, clock, log);
            }
        }
        catch (OperationCanceledException)
        {
        }

        StartStoppedSilos(cluster);
    }

    /// <summary>
    /// Waits (up to 45 s) until the membership table says the incarnation in <paramref name="row"/> is dead; returns
    /// how long that took (also recorded in the history), or null when it was not declared dead.
    /// </summary>
    private static async Task<double?> WaitDeclaredDeadAsync(ChaosCluster cluster, ChaosCluster.MemberRow? row, History history)
    {
        var detectClock = Stopwatch.StartNew();
        while (row is not null && detectClock.Elapsed < TimeSpan.FromSeconds(45))
        {
            if ((await cluster.ReadMembershipAsync()).Any(x => x.Field == row.Field && x.Status == "Dead"))
            {
                history.DetectionSeconds.Enqueue(detectClock.Elapsed.TotalSeconds);
                return detectClock.Elapsed.TotalSeconds;
            }

            await Task.Delay(100, CancellationToken.None);
        }

        return null;
    }

    private static async Task RestartAsync(ChaosCluster cluster, ClusterNode silo, History history, Stopwatch clock, Action<string> log)
    {
        silo.Process.Start();
        history.Events.Enqueue((clock.Elapsed.TotalSeconds, $"{silo.Name} restarted"));
        await WaitBackAsync(cluster, silo, log);
    }

    private static void StartStoppedSilos(ChaosCluster cluster)
    {
        foreach (var silo in cluster.Silos.Where(s => !s.Process.IsRunning))
        {
            silo.Process.Start();
        }
    }

    private static async Task ColdStartLoopAsync(ChaosCluster cluster, History history, Stopwatch clock, ChaosOptions options, string room, Action<string> log, CancellationToken stop)
    {
        var next = options.KillInterval;
        try
        {
            foreach (var together in new[] { true, false })
            {
                await Task.Delay(Max(next - clock.Elapsed), CancellationToken.None);
                var nodes = cluster.Silos.Concat(cluster.Gateways).ToList();
                foreach (var node in nodes)
                {
                    node.Process.Kill();
                }

                await cluster.Redis.StopAsync(Testing.RedisStopMode.Kill);
                history.Events.Enqueue((clock.Elapsed.TotalSeconds, "kill -9 every silo, gateway and redis-server"));
                log($"t={clock.Elapsed.TotalSeconds:0.0}s kill -9 every node and redis-server");
                await cluster.Redis.StartAsync();

                // Old rows of the killed nodes stay Active in the membership table: the restarted nodes must evict them.
                // All at once, every node also comes back on new Orleans ports (as if rescheduled elsewhere), so no
                // restarted node can simply replace its own old row; one at a time, they keep their ports.
                if (together)
                {
                    cluster.MoveStoppedSilosToNewPorts();
                    nodes = [.. cluster.Silos.Concat(cluster.Gateways)];
                }

                var started = Stopwatch.StartNew();
                if (together)
                {
                    foreach (var node in nodes)
                    {
                        node.Process.Start();
                    }
                }
                else
                {
                    foreach (var node in nodes)
                    {
                        var nodeClock = Stopwatch.StartNew();
                        node.Process.Start();
                        await cluster.WaitHealthyAsync(node, TimeSpan.FromSeconds(120));
                        history.ChaosNotes.Enqueue($"cold start one at a time: {node.Name} healthy {nodeClock.Elapsed.TotalSeconds:0.0} s after its start (first start, on an empty table: {cluster.FreshStartSeconds.GetValueOrDefault(node.Name):0.0} s)");
                        log($"{node.Name} healthy {nodeClock.Elapsed.TotalSeconds:0.0} s after its start");
                    }
                }

                history.Events.Enqueue((clock.Elapsed.TotalSeconds, together ? "every node restarted at once" : "every node restarted, one at a time"));
                await cluster.WaitServingAsync(room, TimeSpan.FromSeconds(120));
                var seconds = started.Elapsed.TotalSeconds;
                history.ColdStartSeconds.Enqueue(seconds);
                history.ChaosNotes.Enqueue($"cold start ({(together ? "all nodes at once, on new Orleans ports" : "one node at a time, same ports")}): every gateway answered GET /v1/rooms/{{id}} {seconds:0.0} s after the first node started");
                history.Events.Enqueue((clock.Elapsed.TotalSeconds, $"API answers again ({seconds:0.0} s after the restart began)"));
                log($"t={clock.Elapsed.TotalSeconds:0.0}s cluster serves again, {seconds:0.0} s after the restart began ({(together ? "all at once" : "one at a time")})");
                next = clock.Elapsed + options.KillInterval;
            }
        }
        catch (OperationCanceledException)
        {
        }

        if (!cluster.Redis.IsRunning)
        {
            await cluster.Redis.StartAsync();
        }

        foreach (var node in cluster.Silos.Concat(cluster.Gateways).Where(n => !n.Process.IsRunning))
        {
            node.Process.Start();
        }
    }

    private static async Task RollingLoopAsync(ChaosCluster cluster, History history, Stopwatch clock, Action<string> log, CancellationToken stop)
    {
        // Let the load warm up first, so the restart happens under it.
        await Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None);
        foreach (var silo in cluster.Silos)
        {
            var at = clock.Elapsed.TotalSeconds;
            history.Events.Enqueue((at, $"SIGTERM {silo.Name}"));
            var graceful = await silo.Process.StopAsync(TimeSpan.FromSeconds(45));
            log($"t={at:0.0}s SIGTERM {silo.Name}: exited {(graceful ? "gracefully" : "only when killed")} after {clock.Elapsed.TotalSeconds - at:0.0} s");
            silo.Process.Start();
            history.Events.Enqueue((clock.Elapsed.TotalSeconds, $"{silo.Name} restarted"));
            await WaitBackAsync(cluster, silo, log);
            log($"t={clock.Elapsed.TotalSeconds:0.0}s {silo.Name} back in the cluster");

            // Let client gateways refresh their gateway list (GatewayListRefreshPeriod 5 s) before the next one goes.
            await Task.Delay(TimeSpan.FromSeconds(6), CancellationToken.None);
        }
    }

    private static async Task WaitBackAsync(ChaosCluster cluster, ClusterNode silo, Action<string> log)
    {
        try
        {
            await cluster.WaitHealthyAsync(silo, TimeSpan.FromSeconds(90));
            await Testing.Eventually.TrueAsync(
                async () => (await cluster.CurrentRowAsync(silo))?.Status == "Active",
                TimeSpan.FromSeconds(60),
                $"{silo.Name} is Active in the membership table",
                TimeSpan.FromMilliseconds(200));
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            log($"{silo.Name} did not come back: {ex.Message.Split('\n')[0]}");
            if (!silo.Process.IsRunning)
            {
                silo.Process.Start();
            }
        }
    }

    private static TimeSpan Max(TimeSpan t) => t < TimeSpan.Zero ? TimeSpan.Zero : t;
}
