using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LiveGrains.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Bench;

/// <summary>
/// Webhook delivery: workers pause and resume lives (one <c>live.paused</c>/<c>live.resumed</c> event per call) while
/// a receiver in this process acknowledges every delivery at once. It reports events delivered per second and the
/// time from the API call that caused an event to the event's arrival. The gateway must allow loopback webhook
/// targets (<c>Webhooks__AllowPrivateNetworks=true</c>, which bench/run.sh sets).
/// </summary>
public sealed class WebhookScenario
{
    private const int MaxLives = 2_000;
    private const string Description = "bench";
    private static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(60);
    private static readonly byte[] EmptyBody = "{}"u8.ToArray();

    private readonly string[] _lives;
    private readonly Dictionary<string, int> _index;
    private readonly ConcurrentQueue<long>[] _calls;
    private readonly bool[] _paused;
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Histogram _latency = new();
    private Measurement? _measurement;
    private long _callsInWindow;
    private long _matchedInWindow;
    private long _duplicates;
    private long _unmatched;

    private WebhookScenario(string[] lives)
    {
        _lives = lives;
        _index = lives.Select((live, i) => (live, i)).ToDictionary(p => p.live, p => p.i, StringComparer.Ordinal);
        _calls = [.. lives.Select(_ => new ConcurrentQueue<long>())];
        _paused = new bool[lives.Length];
    }

    /// <summary>The same pause/resume load without any webhook endpoint: what the events cost is the difference.</summary>
    public static async Task<Workload> TransitionsAsync(BenchContext context, CancellationToken cancellationToken)
    {
        // An endpoint left by an earlier webhooks scenario of this invocation would turn this into that scenario.
        await context.SetUpAsync(async api =>
        {
            foreach (var hook in (await api.ListWebhooksAsync(cancellationToken)).Where(h => h.Description == Description))
            {
                await api.DeleteWebhookAsync(hook.WebhookId, cancellationToken);
            }

            return true;
        });

        var lives = await CreateLivesAsync(context, "bench-p", cancellationToken);
        var scenario = new WebhookScenario(lives);
        return scenario.Workload(context, deliveries: false);
    }

    public static async Task<Workload> WebhooksAsync(BenchContext context, CancellationToken cancellationToken)
    {
        WebhookScenario? scenario = null; // the receiver outlives the runs: it stops with the process
        var receiver = await StartReceiverAsync(http => scenario?.ReceiveAsync(http) ?? Task.CompletedTask, cancellationToken);
        var url = receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";

        try
        {
            await context.Api.CreateWebhookAsync(new CreateWebhookRequest(url, ["live.paused", "live.resumed"], Description), cancellationToken: cancellationToken);
        }
        catch (LiveGrainsApiException e)
        {
            await receiver.DisposeAsync();
            throw e.Status == HttpStatusCode.BadRequest
                ? new ScenarioSkippedException($"the gateway refused a loopback webhook URL: start it with Webhooks__AllowPrivateNetworks=true ({e.Message})")
                : ScenarioSkippedException.For(e);
        }

        var lives = await CreateLivesAsync(context, "bench-w", cancellationToken);
        scenario = new WebhookScenario(lives);

        // A first pause and resume of every live activates its event log and registers its reminder before measuring.
        foreach (var action in new[] { "pause", "resume" })
        {
            await context.ForEachAsync(lives.Length, async (i, ct) =>
            {
                scenario._calls[i].Enqueue(Stopwatch.GetTimestamp());
                return await context.SetUpAsync(async api => action == "pause" ? await api.PauseAsync(lives[i], cancellationToken: ct) : await api.ResumeAsync(lives[i], cancellationToken: ct));
            }, cancellationToken);
        }

        await scenario.WaitForDeliveriesAsync(cancellationToken);
        return scenario.Workload(context, deliveries: true);
    }

    private static Task<string[]> CreateLivesAsync(BenchContext context, string prefix, CancellationToken cancellationToken) =>
        context.RoomsWithLivesAsync(prefix, Math.Min(context.Options.Rooms, MaxLives), cancellationToken);

    private Workload Workload(BenchContext context, bool deliveries)
    {
        var count = _lives.Length;
        var concurrency = context.Options.Concurrency;
        var perWorker = Math.Max(1, count / concurrency);
        return new Workload
        {
            // Worker w owns the lives i ≡ w (mod concurrency), in every run, and walks them, pausing a live that is
            // on air and resuming a paused one: each call is one transition, so one event.
            NextRequest = w =>
            {
                var i = Math.Min(count - 1, w.Index + (concurrency * (int)(w.Sequence % perWorker)));
                var action = (_paused[i] = !_paused[i]) ? "pause" : "resume";
                if (deliveries)
                {
                    Called(i);
                }

                return new HttpRequestMessage(HttpMethod.Post, $"/v1/lives/{_lives[i]}/{action}") { Content = Scenarios.Content(EmptyBody) };
            },
            ExpectedStatus = 200,
            Probe = false,
            Background = deliveries
                ? async (measurement, stop) =>
                {
                    Open(measurement);
                    await Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);
                }
                : null,
            Summarize = deliveries ? SummarizeAsync : null,
        };
    }

    private static async Task<WebApplication> StartReceiverAsync(Func<HttpContext, Task> receive, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/hook", receive);
        await app.StartAsync(cancellationToken);
        return app;
    }

    private void Called(int live)
    {
        var now = Stopwatch.GetTimestamp();
        _calls[live].Enqueue(now);
        if (_measurement?.Contains(now) == true)
        {
            Interlocked.Increment(ref _callsInWindow);
        }
    }

    private void Open(Measurement measurement)
    {
        lock (_gate)
        {
            _latency = new Histogram();
        }

        Interlocked.Exchange(ref _callsInWindow, 0);
        Interlocked.Exchange(ref _matchedInWindow, 0);
        Volatile.Write(ref _measurement, measurement);
    }

    /// <summary>Acknowledges at once; matches the event to the oldest unanswered call on its live (delivery is in order per live).</summary>
    private async Task ReceiveAsync(HttpContext http)
    {
        var arrived = Stopwatch.GetTimestamp();
        var id = http.Request.Headers["webhook-id"].ToString();
        using var body = await JsonDocument.ParseAsync(http.Request.Body);
        http.Response.StatusCode = StatusCodes.Status204NoContent;
        if (!_seen.TryAdd(id, 0))
        {
            Interlocked.Increment(ref _duplicates); // at least once: a redelivery is acknowledged, not counted
            return;
        }

        var live = body.RootElement.GetProperty("data").GetProperty("live_id").GetString();
        if (live is null || !_index.TryGetValue(live, out var i) || !_calls[i].TryDequeue(out var called))
        {
            Interlocked.Increment(ref _unmatched);
            return;
        }

        var measurement = Volatile.Read(ref _measurement);
        if (measurement is null)
        {
            return;
        }

        if (measurement.IsOpen)
        {
            measurement.AddEvents(1);
        }

        if (measurement.Contains(called))
        {
            Interlocked.Increment(ref _matchedInWindow);
            lock (_gate)
            {
                _latency.Record((long)Stopwatch.GetElapsedTime(called, arrived).TotalMicroseconds);
            }
        }
    }

    private async Task WaitForDeliveriesAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(DrainWait.TotalSeconds * Stopwatch.Frequency);
        while (_calls.Any(q => !q.IsEmpty) && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>After the window: waits until the window's events arrived (the tail counts), then reports their latency.</summary>
    private async Task<string> SummarizeAsync(CancellationToken cancellationToken)
    {
        var waiting = Stopwatch.StartNew();
        await WaitForDeliveriesAsync(cancellationToken);
        var drained = waiting.Elapsed.TotalSeconds;
        Histogram latency;
        lock (_gate)
        {
            latency = _latency;
        }

        var missing = Interlocked.Read(ref _callsInWindow) - Interlocked.Read(ref _matchedInWindow);
        var duplicates = Interlocked.Read(ref _duplicates);
        var unmatched = Interlocked.Read(ref _unmatched);
        var note = FormattableString.Invariant(
            $"events = deliveries; API call -> delivery p50 {latency.Percentile(50) / 1000.0:0.0} ms, p99 {latency.Percentile(99) / 1000.0:0.0} ms, max {latency.Max / 1000.0:0.0} ms over {latency.Count:N0} events; backlog drained {drained:0.0} s after the window");
        if (missing > 0)
        {
            note += FormattableString.Invariant($"; {missing:N0} events of failed or undelivered calls");
        }

        if (duplicates > 0)
        {
            note += FormattableString.Invariant($"; {duplicates:N0} duplicate deliveries");
        }

        return unmatched > 0 ? note + FormattableString.Invariant($"; {unmatched:N0} unmatched deliveries") : note;
    }
}
