using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using LiveGrains.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Bench;

/// <summary>
/// The drop path (docs/ingest.md, "Dropping a publisher"): go-lives that supersede a live fed by a connected nginx-rtmp
/// encoder, so that the room's pump detaches the stream and the stream's drop pump asks nginx-rtmp's control module to
/// drop the publisher. Here the control module is a stub in this process on 127.0.0.1:<c>--drop-control-port</c>
/// (the gateway needs <c>Ingest__NginxRtmpControlUrl=http://127.0.0.1:PORT/control</c>, which bench/run.sh sets): it
/// answers <c>GET /control/drop/publisher?app=..&amp;clientid=..</c> as nginx-rtmp does (200, the count dropped as
/// text), records the drop and then reconnects that room's encoder (a new <c>publish</c> callback with a new
/// <c>clientid</c>, which joins the new live), so the room can be superseded with a connected encoder again.
/// </summary>
public sealed class DropScenario
{
    private const string RoomPrefix = "bench-d";
    private const string App = "live";
    private static readonly TimeSpan ProbeWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(30);
    private static readonly byte[] GoLiveBody = """{"title":"b"}"""u8.ToArray();

    private readonly BenchContext _context;
    private readonly string _hook;
    private readonly string[] _keys;

    /// <summary>1 while the room's encoder is connected (its publish was allowed); 0 from the go-live that supersedes it until it reconnects.</summary>
    private readonly int[] _armed;

    /// <summary>When the go-live that superseded the room's encoder was sent; 0 once its drop call arrived.</summary>
    private readonly long[] _calledAt;

    /// <summary>Each worker's place among its own rooms.</summary>
    private readonly int[] _cursor;
    private readonly ConcurrentDictionary<string, int> _clients = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Histogram _latency = new();
    private Measurement? _measurement;
    private long _nextClient;
    private long _callsInWindow;
    private long _matchedInWindow;
    private long _unarmed;
    private long _unknownDrops;
    private long _refusedReconnects;

    private DropScenario(BenchContext context, string[] keys)
    {
        _context = context;
        _hook = $"/v1/ingest-hooks/nginx-rtmp?secret={Uri.EscapeDataString(context.Options.Secret)}";
        _keys = keys;
        _armed = new int[keys.Length];
        _calledAt = new long[keys.Length];
        _cursor = new int[context.Options.Concurrency];
    }

    public static async Task<Workload> SetUpAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if (context.Options.DropControlPort is not { } port)
        {
            throw new ScenarioSkippedException(
                "needs --drop-control-port PORT and a gateway with Ingest__NginxRtmpControlUrl=http://127.0.0.1:PORT/control (bench/run.sh sets both)");
        }

        DropScenario? scenario = null; // the stub outlives the runs: it stops with the process
        WebApplication control;
        try
        {
            control = await StartControlAsync(port, http => scenario?.DropAsync(http) ?? NotDroppedAsync(http), cancellationToken);
        }
        catch (IOException e)
        {
            throw new ScenarioSkippedException($"the control stub could not listen on 127.0.0.1:{port} ({e.Message})");
        }

        var concurrency = context.Options.Concurrency;
        var count = Math.Max(context.Options.Rooms, concurrency);
        string[] keys;
        try
        {
            keys = await context.ForEachAsync(count, async (i, ct) =>
            {
                await context.CreateRoomAsync($"{RoomPrefix}{i}", ct);
                return await context.SetUpAsync(async api => (await api.CreateStreamAsync(new CreateStreamRequest($"{RoomPrefix}{i}"), cancellationToken: ct)).StreamKey!);
            }, cancellationToken);
        }
        catch
        {
            await control.DisposeAsync();
            throw;
        }

        scenario = new DropScenario(context, keys);

        // Every encoder connects: its publish starts a new live in its room (ingest rule 4), fed by it.
        await context.ForEachAsync(count, async (i, ct) =>
        {
            var (status, body) = await scenario.ConnectAsync(i, ct);
            return status is >= 200 and < 300
                ? true
                : throw ScenarioSkippedException.For(HttpMethod.Post, "/v1/ingest-hooks/nginx-rtmp", status, body);
        }, cancellationToken);

        // The probe: one supersede must reach the stub and the encoder must be back before anything is measured.
        using (var probe = scenario.GoLive(0, Stopwatch.GetTimestamp()))
        using (var response = await context.Client.SendAsync(probe, cancellationToken))
        {
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw ScenarioSkippedException.For(HttpMethod.Post, $"/v1/rooms/{RoomPrefix}0/go-live", (int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
            }
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(ProbeWait.TotalSeconds * Stopwatch.Frequency);
        while (Volatile.Read(ref scenario._armed[0]) == 0 && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50, cancellationToken);
        }

        if (Volatile.Read(ref scenario._armed[0]) == 0)
        {
            throw new ScenarioSkippedException(
                $"no drop call reached the control stub within {ProbeWait.TotalSeconds:0} s of a supersede: start the gateway with Ingest__NginxRtmpControlUrl=http://127.0.0.1:{port}/control");
        }

        return scenario.Workload();
    }

    private Workload Workload()
    {
        var concurrency = _context.Options.Concurrency;
        var perWorker = _keys.Length / concurrency;
        return new Workload
        {
            // Worker w owns the rooms i ≡ w (mod concurrency) and walks them, skipping a room whose encoder has not
            // reconnected yet after its last supersede, so every measured go-live supersedes a connected encoder.
            NextRequest = w =>
            {
                var room = -1;
                for (var tries = 0; tries < perWorker && room < 0; tries++)
                {
                    var i = w.Index + (concurrency * _cursor[w.Index]);
                    _cursor[w.Index] = (_cursor[w.Index] + 1) % perWorker;
                    if (Interlocked.Exchange(ref _armed[i], 0) == 1)
                    {
                        room = i;
                    }
                }

                var now = Stopwatch.GetTimestamp();
                var measurement = Volatile.Read(ref _measurement);
                if (room < 0)
                {
                    // None of this worker's encoders is back yet: the go-live still goes out, but it drops nothing.
                    room = w.Index + (concurrency * _cursor[w.Index]);
                    if (measurement?.Contains(now) == true)
                    {
                        Interlocked.Increment(ref _unarmed);
                    }

                    return GoLive(room, 0);
                }

                if (measurement?.Contains(now) == true)
                {
                    Interlocked.Increment(ref _callsInWindow);
                }

                return GoLive(room, now);
            },
            ExpectedStatus = 201,
            Probe = false,
            Background = async (measurement, stop) =>
            {
                Open(measurement);
                await Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);
            },
            Summarize = SummarizeAsync,
        };
    }

    private HttpRequestMessage GoLive(int room, long now)
    {
        if (now != 0)
        {
            Volatile.Write(ref _calledAt[room], now);
        }

        return new HttpRequestMessage(HttpMethod.Post, $"/v1/rooms/{RoomPrefix}{room}/go-live") { Content = Scenarios.Content(GoLiveBody) };
    }

    /// <summary>The room's encoder (re)connects: an nginx-rtmp publish with a clientid never used before.</summary>
    private async Task<(int Status, string Body)> ConnectAsync(int room, CancellationToken cancellationToken)
    {
        var client = Interlocked.Increment(ref _nextClient).ToString(CultureInfo.InvariantCulture);
        _clients[client] = room;
        var form = Encoding.ASCII.GetBytes(
            $"call=publish&name={Uri.EscapeDataString(_keys[room])}&app={App}&addr=127.0.0.1&clientid={client}&tcurl=rtmp%3A%2F%2F127.0.0.1%2F{App}");
        using var request = new HttpRequestMessage(HttpMethod.Post, _hook) { Content = Scenarios.Content(form, "application/x-www-form-urlencoded") };
        using var response = await _context.Client.SendAsync(request, cancellationToken);
        var status = (int)response.StatusCode;
        if (status is >= 200 and < 300)
        {
            Volatile.Write(ref _armed[room], 1);
            return (status, string.Empty);
        }

        _clients.TryRemove(client, out _);
        return (status, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    private static async Task<WebApplication> StartControlAsync(int port, Func<HttpContext, Task> drop, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapGet("/control/drop/publisher", drop);
        await app.StartAsync(cancellationToken);
        return app;
    }

    /// <summary>Before the set-up is done no publisher is known: nginx-rtmp then answers 200 with 0 dropped.</summary>
    private static Task NotDroppedAsync(HttpContext http) => http.Response.WriteAsync("0");

    /// <summary>
    /// nginx-rtmp's control module: 200 with the number of publishers dropped (0 when that client is gone). A known
    /// client is dropped once; its room's encoder then reconnects in the background, as a restarted encoder would.
    /// </summary>
    private async Task DropAsync(HttpContext http)
    {
        var arrived = Stopwatch.GetTimestamp();
        var app = http.Request.Query["app"].ToString();
        var client = http.Request.Query["clientid"].ToString();
        if (app != App || !_clients.TryRemove(client, out var room))
        {
            Interlocked.Increment(ref _unknownDrops);
            await http.Response.WriteAsync("0");
            return;
        }

        await http.Response.WriteAsync("1");
        var called = Interlocked.Exchange(ref _calledAt[room], 0);
        var measurement = Volatile.Read(ref _measurement);
        if (measurement is not null)
        {
            if (measurement.IsOpen)
            {
                measurement.AddEvents(1);
            }

            if (called != 0 && measurement.Contains(called))
            {
                Interlocked.Increment(ref _matchedInWindow);
                lock (_gate)
                {
                    _latency.Record((long)Stopwatch.GetElapsedTime(called, arrived).TotalMicroseconds);
                }
            }
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var (status, _) = await ConnectAsync(room, CancellationToken.None);
                if (status is < 200 or >= 300)
                {
                    Interlocked.Increment(ref _refusedReconnects);
                }
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref _refusedReconnects);
            }
        });
    }

    private bool Pending()
    {
        for (var i = 0; i < _calledAt.Length; i++)
        {
            if (Volatile.Read(ref _calledAt[i]) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private void Open(Measurement measurement)
    {
        lock (_gate)
        {
            _latency = new Histogram();
        }

        Interlocked.Exchange(ref _callsInWindow, 0);
        Interlocked.Exchange(ref _matchedInWindow, 0);
        Interlocked.Exchange(ref _unarmed, 0);
        Volatile.Write(ref _measurement, measurement);
    }

    /// <summary>After the window: waits for the window's drop calls (the tail counts), then reports their latency.</summary>
    private async Task<string> SummarizeAsync(CancellationToken cancellationToken)
    {
        var waiting = Stopwatch.StartNew();
        var deadline = Stopwatch.GetTimestamp() + (long)(DrainWait.TotalSeconds * Stopwatch.Frequency);
        while (Pending() && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50, cancellationToken);
        }

        var drained = waiting.Elapsed.TotalSeconds;

        // A go-live that failed left its encoder connected: that room may be superseded again in the next run.
        for (var i = 0; i < _calledAt.Length; i++)
        {
            if (Interlocked.Exchange(ref _calledAt[i], 0) != 0)
            {
                Volatile.Write(ref _armed[i], 1);
            }
        }

        Histogram latency;
        lock (_gate)
        {
            latency = _latency;
        }

        var missing = Interlocked.Read(ref _callsInWindow) - Interlocked.Read(ref _matchedInWindow);
        var note = FormattableString.Invariant(
            $"events = drop calls received; go-live -> drop call p50 {latency.Percentile(50) / 1000.0:0.0} ms, p99 {latency.Percentile(99) / 1000.0:0.0} ms, max {latency.Max / 1000.0:0.0} ms over {latency.Count:N0} go-lives of the window; backlog drained {drained:0.0} s after the window");
        if (missing > 0)
        {
            note += FormattableString.Invariant($"; {missing:N0} go-lives without a drop call (failed, or not within {DrainWait.TotalSeconds:0} s)");
        }

        if (Interlocked.Read(ref _unarmed) is var unarmed and > 0)
        {
            note += FormattableString.Invariant($"; {unarmed:N0} go-lives found no reconnected encoder (nothing to drop)");
        }

        if (Interlocked.Read(ref _unknownDrops) is var unknown and > 0)
        {
            note += FormattableString.Invariant($"; {unknown:N0} drop calls for unknown or already dropped clients");
        }

        return Interlocked.Read(ref _refusedReconnects) is var refused and > 0
            ? note + FormattableString.Invariant($"; {refused:N0} encoder reconnects refused")
            : note;
    }
}
