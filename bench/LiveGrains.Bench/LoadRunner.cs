using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace LiveGrains.Bench;

/// <summary>What one worker loop hands to a request factory: its index, its own random source and its request count.</summary>
public sealed class Worker(int index, int seed)
{
    public int Index { get; } = index;

    public Random Random { get; } = new(seed);

    public long Sequence { get; internal set; }
}

/// <summary>What a scenario measures: the request every worker sends in a loop, and how to judge the answer.</summary>
public sealed class Workload
{
    public required Func<Worker, HttpRequestMessage> NextRequest { get; init; }

    /// <summary>The status that counts as success; null accepts any 2xx.</summary>
    public int? ExpectedStatus { get; init; }

    /// <summary>Adds <c>accepted</c> from each successful JSON answer to the events column.</summary>
    public bool CountsAccepted { get; init; }

    public int? Concurrency { get; init; }

    /// <summary>Each worker starts a request this often instead of back to back: a sampling loop, not a load.</summary>
    public TimeSpan? Interval { get; init; }

    public TimeSpan? Warmup { get; init; }

    public TimeSpan? Duration { get; init; }

    /// <summary>Whether the runner sends one request before measuring, to report a missing endpoint; a setup may probe itself.</summary>
    public bool Probe { get; init; } = true;

    /// <summary>Load that runs beside the measured requests (heartbeats) and reports into the same measurement.</summary>
    public Func<Measurement, CancellationToken, Task>? Background { get; init; }

    /// <summary>A note for the table, read after the measured window, such as the final viewer count.</summary>
    public Func<CancellationToken, Task<string>>? Summarize { get; init; }

    public bool IsSuccess(int status) => ExpectedStatus is { } expected ? status == expected : status is >= 200 and < 300;
}

/// <summary>The counters of one measured window, shared by every worker; latencies go to per-worker histograms.</summary>
public sealed class Measurement
{
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private long _start = long.MaxValue;
    private long _end = long.MaxValue;
    private long _successes;
    private long _events;

    public long Successes => Interlocked.Read(ref _successes);

    public long Events => Interlocked.Read(ref _events);

    public IReadOnlyDictionary<string, long> Errors => _errors;

    public double Seconds => Stopwatch.GetElapsedTime(_start, _end).TotalSeconds;

    /// <summary>Whether a request started at <paramref name="timestamp"/> belongs to the window.</summary>
    public bool Contains(long timestamp) => timestamp >= Volatile.Read(ref _start) && timestamp < Volatile.Read(ref _end);

    public bool IsOpen => Contains(Stopwatch.GetTimestamp());

    public void AddSuccess(long events = 0)
    {
        Interlocked.Increment(ref _successes);
        Interlocked.Add(ref _events, events);
    }

    public void AddEvents(long count) => Interlocked.Add(ref _events, count);

    public void AddError(string code) => _errors.AddOrUpdate(code, 1, (_, n) => n + 1);

    internal void Open() => Volatile.Write(ref _start, Stopwatch.GetTimestamp());

    internal void Close() => Volatile.Write(ref _end, Stopwatch.GetTimestamp());
}

/// <summary>One measured window of one scenario.</summary>
public sealed record RunResult(
    long Successes,
    double Seconds,
    Histogram Latency,
    IReadOnlyDictionary<string, long> Errors,
    long Events,
    ProcessSample? Start,
    ProcessSample? End,
    bool Paced,
    string? Note)
{
    public double RequestsPerSecond => Seconds > 0 ? Successes / Seconds : 0;

    public double EventsPerSecond => Seconds > 0 ? Events / Seconds : 0;

    public double? CpuPercent => ProcessMetrics.CpuPercent(Start, End);
}

/// <summary>Closed-loop load: N workers each send a request, wait for the answer and send the next.</summary>
public static class LoadRunner
{
    /// <summary>Sends one request of the workload and returns its status and body, to catch a missing endpoint before measuring.</summary>
    public static async Task<(int Status, string Body)> ProbeAsync(HttpClient client, Workload workload, CancellationToken cancellationToken)
    {
        using var request = workload.NextRequest(new Worker(0, 1));
        using var response = await client.SendAsync(request, cancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    public static Task<RunResult> RunAsync(
        HttpClient client,
        Workload workload,
        int concurrency,
        TimeSpan warmup,
        TimeSpan duration,
        ProcessMetrics metrics,
        CancellationToken cancellationToken) =>
        RunAsync([client], workload, concurrency, warmup, duration, metrics, cancellationToken);

    /// <summary>
    /// Measures <paramref name="workload"/> through several gateways: worker i sends every request through
    /// <c>clients[i % clients.Count]</c> (round-robin), each client with its own connection pool.
    /// </summary>
    public static async Task<RunResult> RunAsync(
        IReadOnlyList<HttpClient> clients,
        Workload workload,
        int concurrency,
        TimeSpan warmup,
        TimeSpan duration,
        ProcessMetrics metrics,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(clients.Count);
        concurrency = workload.Concurrency ?? concurrency;
        warmup = workload.Warmup ?? warmup;
        duration = workload.Duration ?? duration;

        var measurement = new Measurement();
        var histograms = new Histogram[concurrency];
        using var stopIssuing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            var worker = new Worker(i, Random.Shared.Next());
            var histogram = histograms[i] = new Histogram();
            var client = clients[i % clients.Count];
            workers[i] = Task.Run(() => WorkAsync(client, workload, worker, histogram, measurement, stopIssuing.Token, cancellationToken), CancellationToken.None);
        }

        var background = workload.Background is { } run ? Task.Run(() => run(measurement, stopIssuing.Token), CancellationToken.None) : Task.CompletedTask;
        ProcessSample? start, end;
        try
        {
            await Task.Delay(warmup, cancellationToken);
            metrics.ResetPeak();
            start = metrics.Sample();
            measurement.Open();
            await Task.Delay(duration, cancellationToken);
            measurement.Close();
            end = metrics.Sample();
        }
        finally
        {
            await stopIssuing.CancelAsync();
            // Requests still in flight finish: those started inside the window are measured.
            await Task.WhenAll(workers.Append(background)).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var failed = workers.Append(background).FirstOrDefault(t => t.IsFaulted);
        if (failed is not null)
        {
            await failed;
        }

        var latency = new Histogram();
        foreach (var histogram in histograms)
        {
            latency.Add(histogram);
        }

        var note = workload.Summarize is { } summarize ? await summarize(cancellationToken) : null;
        return new RunResult(measurement.Successes, measurement.Seconds, latency, measurement.Errors, measurement.Events, start, end, workload.Interval is not null, note);
    }

    private static async Task WorkAsync(
        HttpClient client,
        Workload workload,
        Worker worker,
        Histogram histogram,
        Measurement measurement,
        CancellationToken stopIssuing,
        CancellationToken cancellationToken)
    {
        var next = Stopwatch.GetTimestamp();
        while (!stopIssuing.IsCancellationRequested)
        {
            if (workload.Interval is { } interval)
            {
                next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
                if (!await DelayUntilAsync(next, stopIssuing))
                {
                    return;
                }
            }

            using var request = workload.NextRequest(worker);
            worker.Sequence++;
            var started = Stopwatch.GetTimestamp();
            string? error = null;
            long events = 0;
            try
            {
                using var response = await client.SendAsync(request, cancellationToken);
                var status = (int)response.StatusCode;
                if (!workload.IsSuccess(status))
                {
                    error = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                else if (workload.CountsAccepted)
                {
                    events = await ReadAcceptedAsync(response, cancellationToken);
                }
            }
            catch (HttpRequestException)
            {
                error = "conn";
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                error = "timeout";
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            if (!measurement.Contains(started))
            {
                continue;
            }

            histogram.Record((long)(elapsed.TotalMicroseconds));
            if (error is null)
            {
                measurement.AddSuccess(events);
            }
            else
            {
                measurement.AddError(error);
            }
        }
    }

    /// <summary>Reads <c>accepted</c> from a batch activity answer; 0 when the body is not such an answer.</summary>
    public static async Task<long> ReadAcceptedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("accepted", out var accepted) && accepted.TryGetInt64(out var n) ? n : 0;
        }
        catch (JsonException)
        {
            return 0;
        }
    }

    /// <summary>Waits until a <see cref="Stopwatch"/> timestamp, or returns false when told to stop.</summary>
    public static async Task<bool> DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        try
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            return !cancellationToken.IsCancellationRequested;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
