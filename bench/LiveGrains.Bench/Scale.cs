using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace LiveGrains.Bench;

/// <summary>One measured window of the scale scenario: the sampled requests, and the join load that ran beside them.</summary>
public sealed record ScaleWindow(string Name, int Run, RunResult Result, long Joins, long JoinErrors, Histogram JoinLatency);

/// <summary>What the scale scenario measured: the build, the memory it took, and the windows under the join load.</summary>
public sealed record ScaleResult(
    int Rooms,
    int Lives,
    double RoomsSeconds,
    double LivesSeconds,
    long? RssBeforeKiB,
    long? RssAfterRoomsKiB,
    long? RssAfterLivesKiB,
    long? PeakRssKiB,
    HeapReading? HeapBefore,
    HeapReading? HeapAfter,
    int JoinRate,
    int ListConcurrency,
    IReadOnlyList<ScaleWindow> Windows,
    string? Check,
    string? Note);

/// <summary>
/// scale (issue 13, "Benchmark"): one tenant with <see cref="BenchOptions.ScaleRooms"/> rooms (1,000,000) of which
/// <see cref="BenchOptions.Lives"/> (100,000) have a live on air, all built through the public API. Reports the time to
/// build, the gateway's memory (RSS, and the live managed heap after a full GC when dotnet-gcdump is installed), then
/// measures the "live now" listing <c>GET /v1/lives?status=live&amp;order=viewer_count</c> and, in the next window,
/// <c>GET /alive</c> of the same process, each sampled by <see cref="BenchOptions.ListConcurrency"/> closed-loop
/// workers while joins run beside them at a paced <see cref="BenchOptions.JoinRate"/> per second (an open loop, so the
/// join load is the same in both windows and does not simply saturate the two cores).
/// </summary>
public static class Scale
{
    public const string Name = "scale";

    /// <summary>The issue's size, the default when <c>--rooms</c> is not given (the other scenarios default to 10,000).</summary>
    public const int DefaultRooms = 1_000_000;

    private const string RoomPrefix = "bench-k";

    /// <summary>At most this many joins in flight: a paced load that the gateway cannot keep up with queues here, not in it.</summary>
    private const int MaxJoinsInFlight = 256;

    public const string ListingPath = "/v1/lives?status=live&order=viewer_count&limit=20";

    public static async Task<ScaleResult> MeasureAsync(BenchContext context, ProcessMetrics metrics, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var rooms = options.ScaleRooms;
        var lives = options.Lives;
        if (lives > rooms)
        {
            throw new ScenarioSkippedException($"--lives ({lives:N0}) is more than --rooms ({rooms:N0}): one live per room");
        }

        var gcdump = metrics.Pid is not null ? IdleLives.FindGcDump() : null;
        var notes = new List<string>();
        if (metrics.Pid is null)
        {
            notes.Add("no single --pid: no GC heap reading");
        }
        else if (gcdump is null)
        {
            notes.Add("dotnet-gcdump not found (dotnet tool install -g dotnet-gcdump): no GC heap reading");
        }

        var heapBefore = gcdump is null ? null : await IdleLives.ReadHeapAsync(gcdump, metrics, cancellationToken);
        var rssBefore = metrics.Sample()?.RssKiB;
        metrics.ResetPeak();

        // Rooms: the public POST /v1/rooms, --concurrency at a time (one pooled connection each).
        Console.Error.WriteLine($"   creating {rooms:N0} rooms ({options.Concurrency} at a time)");
        var built = Stopwatch.StartNew();
        var step = Math.Max(1, rooms / 20);
        long done = 0;
        await context.ForEachAsync(rooms, async (i, ct) =>
        {
            await context.CreateRoomAsync(RoomId(i), ct);
            var n = Interlocked.Increment(ref done);
            if (n % step == 0)
            {
                Console.Error.WriteLine(Invariant(
                    $"   {n:N0} rooms in {built.Elapsed.TotalSeconds:0} s ({n / built.Elapsed.TotalSeconds:N0}/s), RSS {MiB(metrics.Sample()?.RssKiB)} MiB"));
            }

            return true;
        }, cancellationToken);
        var roomsSeconds = built.Elapsed.TotalSeconds;
        var rssAfterRooms = metrics.Sample()?.RssKiB;
        Console.Error.WriteLine(Invariant($"   {rooms:N0} rooms in {roomsSeconds:0.0} s; RSS {MiB(rssAfterRooms)} MiB"));

        // Lives: a go-live in every (rooms / lives)-th room, spread over the tenant (and so over its index shards).
        Console.Error.WriteLine($"   putting {lives:N0} lives on air");
        var stride = rooms / lives;
        built.Restart();
        done = 0;
        var step2 = Math.Max(1, lives / 10);
        var liveIds = await context.ForEachAsync(lives, async (j, ct) =>
        {
            var id = await context.GoLiveAsync(RoomId(j * stride), ct);
            if (Interlocked.Increment(ref done) % step2 == 0)
            {
                Console.Error.WriteLine(Invariant($"   {done:N0} lives in {built.Elapsed.TotalSeconds:0} s, RSS {MiB(metrics.Sample()?.RssKiB)} MiB"));
            }

            return id;
        }, cancellationToken);
        var livesSeconds = built.Elapsed.TotalSeconds;
        var rssAfterLives = metrics.Sample()?.RssKiB;
        var peak = metrics.Sample()?.PeakRssKiB;
        Console.Error.WriteLine(Invariant($"   {lives:N0} lives in {livesSeconds:0.0} s; RSS {MiB(rssAfterLives)} MiB (peak {MiB(peak)})"));

        var heapAfter = gcdump is null ? null : await IdleLives.ReadHeapAsync(gcdump, metrics, cancellationToken);
        if (gcdump is not null && (heapBefore is null || heapAfter is null))
        {
            notes.Add("dotnet-gcdump failed: no GC heap reading");
        }

        // The join load: a random viewer joins a random live, paced, for the whole of every window (and its warm-up),
        // so viewer counts move and the stats flushes feed the index's viewer_count order while the listing is read.
        var listing = new Workload { NextRequest = _ => new HttpRequestMessage(HttpMethod.Get, ListingPath), ExpectedStatus = 200 };
        var alive = new Workload { NextRequest = _ => new HttpRequestMessage(HttpMethod.Get, "/alive"), ExpectedStatus = 200 };
        // The joins have their own connection pool, so a join waiting for a connection never delays a sampled request
        // in the load generator: the sampled latency is the gateway's.
        using var joinClients = new GatewayClients(options with { Concurrency = MaxJoinsInFlight });
        var windows = new List<ScaleWindow>();
        for (var run = 1; run <= options.Runs; run++)
        {
            foreach (var (name, workload) in new[] { ("lives?status=live&order=viewer_count", listing), ("alive", alive) })
            {
                var joins = new JoinLoad(joinClients.Clients[0], liveIds, options.JoinRate);
                var measured = new Workload
                {
                    NextRequest = workload.NextRequest,
                    ExpectedStatus = workload.ExpectedStatus,
                    Background = joins.RunAsync,
                };
                var result = await LoadRunner.RunAsync([context.Client], measured, options.ListConcurrency, options.Warmup, options.Duration, metrics, cancellationToken);
                windows.Add(new ScaleWindow(name, run, result, joins.Measured, joins.Errors, joins.Latency));
                Console.Error.WriteLine(Invariant(
                    $"   run {run} {name}: {result.RequestsPerSecond:N0} req/s, p50 {Ms(result.Latency.Percentile(50))} ms, p99 {Ms(result.Latency.Percentile(99))} ms; joins {joins.Measured / result.Seconds:N0}/s"));
            }
        }

        var check = await CheckListingAsync(context.Client, cancellationToken);
        return new ScaleResult(rooms, lives, roomsSeconds, livesSeconds, rssBefore, rssAfterRooms, rssAfterLives, peak, heapBefore, heapAfter,
            options.JoinRate, options.ListConcurrency, windows, check, notes.Count == 0 ? null : string.Join("; ", notes));
    }

    public static string RoomId(int i) => string.Create(CultureInfo.InvariantCulture, $"{RoomPrefix}{i}");

    /// <summary>One page of the listing after the windows: how many items, and whether it is in viewer_count order.</summary>
    private static async Task<string> CheckListingAsync(HttpClient client, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(ListingPath, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return Invariant($"the listing answered {(int)response.StatusCode}");
        }

        using var json = JsonDocument.Parse(body);
        var counts = json.RootElement.GetProperty("items").EnumerateArray()
            .Select(item => item.TryGetProperty("stats", out var stats) && stats.TryGetProperty("viewer_count", out var count) ? count.GetInt64()
                : item.TryGetProperty("viewer_count", out var direct) ? direct.GetInt64() : -1)
            .ToList();
        var ordered = counts.Zip(counts.Skip(1)).All(p => p.First >= p.Second);
        return Invariant($"a page after the windows: {counts.Count} items, viewer_count {(counts.Count > 0 ? $"{counts[0]}..{counts[^1]}" : "-")}, {(ordered ? "highest first" : "NOT in order (the index lags the live counts)")}");
    }

    private static string MiB(long? kib) => kib is { } k ? (k / 1024.0).ToString("N0", CultureInfo.InvariantCulture) : "-";

    private static string Ms(long micros) => (micros / 1000.0).ToString(micros < 10_000 ? "0.00" : "0.0", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static void Print(TextWriter output, ScaleResult scale)
    {
        output.WriteLine();
        output.WriteLine(Invariant(
            $"scale: one tenant, {scale.Rooms:N0} rooms (POST /v1/rooms) and {scale.Lives:N0} lives on air (one go-live in every {scale.Rooms / scale.Lives:N0}th room); target: listing p99 <= 50 ms"));
        output.WriteLine();
        output.WriteLine("| build | seconds | per second | RSS MiB after |");
        output.WriteLine("| --- | ---: | ---: | ---: |");
        output.WriteLine(Invariant($"| before | - | - | {MiB(scale.RssBeforeKiB)} |"));
        output.WriteLine(Invariant($"| {scale.Rooms:N0} rooms | {scale.RoomsSeconds:0.0} | {scale.Rooms / scale.RoomsSeconds:N0} | {MiB(scale.RssAfterRoomsKiB)} |"));
        output.WriteLine(Invariant($"| {scale.Lives:N0} go-lives | {scale.LivesSeconds:0.0} | {scale.Lives / scale.LivesSeconds:N0} | {MiB(scale.RssAfterLivesKiB)} (peak {MiB(scale.PeakRssKiB)}) |"));
        output.WriteLine();
        if (scale.HeapBefore is { } hb && scale.HeapAfter is { } ha)
        {
            output.WriteLine(Invariant(
                $"After a full GC (dotnet-gcdump) before and after the build: live managed heap {hb.LiveBytes / 1048576.0:N1} -> {ha.LiveBytes / 1048576.0:N1} MiB; RSS right after each {MiB(hb.RssKiB)} -> {MiB(ha.RssKiB)} MiB."));
            output.WriteLine();
        }

        output.WriteLine(Invariant(
            $"| measured ({scale.ListConcurrency} closed-loop workers) beside {scale.JoinRate:N0} joins/s | run | req/s | p50 ms | p99 ms | max ms | errors | joins/s done | join p99 ms | join errors | CPU % | RSS MiB |"));
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var w in scale.Windows)
        {
            var r = w.Result;
            var errors = r.Errors.Count == 0 ? "0" : string.Join(", ", r.Errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {e.Value}"));
            output.WriteLine(Invariant(
                $"| {w.Name} | {w.Run} | {r.RequestsPerSecond:N0} | {Ms(r.Latency.Percentile(50))} | {Ms(r.Latency.Percentile(99))} | {Ms(r.Latency.Max)} | {errors} | {w.Joins / r.Seconds:N0} | {(w.Joins > 0 ? Ms(w.JoinLatency.Percentile(99)) : "-")} | {w.JoinErrors} | {(r.CpuPercent is { } cpu ? cpu.ToString("0", CultureInfo.InvariantCulture) : "-")} | {MiB(r.End?.RssKiB)} |"));
        }

        output.WriteLine();
        output.WriteLine("Each window: the listing's first page (limit 20) or GET /alive, sent back to back by the workers, while joins of random viewers " +
            "to random lives are sent at the paced rate on their own connections (at most " + MaxJoinsInFlight.ToString(CultureInfo.InvariantCulture) + " in flight; one due beyond that is dropped and counted as a join error). CPU and RSS are the gateway's over the window." +
            (scale.Check is null ? string.Empty : " Check: " + scale.Check + ".") +
            (scale.Note is null ? string.Empty : " Note: " + scale.Note + "."));
    }

    /// <summary>Joins at a fixed rate (an open loop) beside a measured window; counts and times those started inside it.</summary>
    private sealed class JoinLoad(HttpClient client, string[] lives, int rate)
    {
        private long _measured;
        private long _errors;

        public Histogram Latency { get; } = new();

        public long Measured => Interlocked.Read(ref _measured);

        public long Errors => Interlocked.Read(ref _errors);

        public async Task RunAsync(Measurement measurement, CancellationToken stop)
        {
            var interval = (long)(Stopwatch.Frequency / (double)rate);
            using var inFlight = new SemaphoreSlim(MaxJoinsInFlight);
            var sends = new List<Task>();
            var random = new Random();
            var next = Stopwatch.GetTimestamp();
            while (await LoadRunner.DelayUntilAsync(next, stop))
            {
                // Every join due by now goes out (a timer tick is ~1 ms, so at thousands a second several are due at once).
                var now = Stopwatch.GetTimestamp();
                while (next <= now)
                {
                    next += interval;
                    if (!inFlight.Wait(0))
                    {
                        // MaxJoinsInFlight outstanding: the gateway is behind; this join is dropped (counted as an error), not queued.
                        if (measurement.Contains(now))
                        {
                            Interlocked.Increment(ref _errors);
                        }

                        continue;
                    }

                    var path = $"/v1/lives/{lives[random.Next(lives.Length)]}/viewers/v{random.Next(1_000_000)}/join";
                    sends.Add(SendAsync(path, measurement, inFlight));
                }

                sends.RemoveAll(t => t.IsCompleted);
            }

            await Task.WhenAll(sends);
        }

        private async Task SendAsync(string path, Measurement measurement, SemaphoreSlim inFlight)
        {
            var started = Stopwatch.GetTimestamp();
            var ok = false;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path);
                using var response = await client.SendAsync(request, CancellationToken.None);
                ok = (int)response.StatusCode == 202;
            }
            catch (HttpRequestException)
            {
                ok = false;
            }
            finally
            {
                inFlight.Release();
            }

            if (measurement.Contains(started))
            {
                lock (Latency)
                {
                    Latency.Record((long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                }

                Interlocked.Increment(ref ok ? ref _measured : ref _errors);
            }
        }
    }
}
