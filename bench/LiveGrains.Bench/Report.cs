using System.Globalization;
using System.Runtime.InteropServices;

namespace LiveGrains.Bench;

/// <summary>Collects every run and prints them as a Markdown table for docs/benchmarks.md.</summary>
public sealed class Report(BenchOptions options)
{
    private readonly List<Row> _rows = [];
    private readonly Dictionary<(string Scenario, string Run), RunResult> _baselines = [];
    private readonly Dictionary<(string Scenario, string Run), RunResult> _peer = [];
    private readonly Dictionary<(string Scenario, string Run), RunResult> _peerBaselines = [];
    private readonly Dictionary<string, string> _peerSkipped = [];
    private readonly List<IdleResult> _idle = [];

    public bool AliveMeasured => _rows.Any(r => r.Scenario == Scenarios.Alive && r.Result is not null);

    public void Add(string scenario, int run, RunResult result)
    {
        _rows.Add(new Row(scenario, run.ToString(CultureInfo.InvariantCulture), result, result.Note));
        Console.Error.WriteLine(
            $"   run {run}: {result.RequestsPerSecond:N0} req/s, p50 {Ms(result.Latency.Percentile(50))} ms, " +
            $"p99 {Ms(result.Latency.Percentile(99))} ms, errors {Errors(result.Errors)}{(result.Note is null ? string.Empty : "; " + result.Note)}");
    }

    /// <summary>GET /alive measured just before run <paramref name="run"/> of <paramref name="scenario"/>.</summary>
    public void AddBaseline(string scenario, int run, RunResult alive)
    {
        _baselines[(scenario, run.ToString(CultureInfo.InvariantCulture))] = alive;
        Console.Error.WriteLine($"   /alive before run {run}: {alive.RequestsPerSecond:N0} req/s");
    }

    /// <summary>The stateless peer's run <paramref name="run"/> of <paramref name="scenario"/>.</summary>
    public void AddPeer(string scenario, int run, RunResult result)
    {
        _peer[(scenario, run.ToString(CultureInfo.InvariantCulture))] = result;
        Console.Error.WriteLine(
            $"   peer run {run}: {result.RequestsPerSecond:N0} req/s, p50 {Ms(result.Latency.Percentile(50))} ms, " +
            $"p99 {Ms(result.Latency.Percentile(99))} ms, errors {Errors(result.Errors)}");
    }

    /// <summary>The peer's own GET /alive, measured just before its run <paramref name="run"/> of <paramref name="scenario"/>.</summary>
    public void AddPeerBaseline(string scenario, int run, RunResult alive)
    {
        _peerBaselines[(scenario, run.ToString(CultureInfo.InvariantCulture))] = alive;
        Console.Error.WriteLine($"   peer /alive before run {run}: {alive.RequestsPerSecond:N0} req/s");
    }

    public void SkipPeer(string scenario, string reason)
    {
        _peerSkipped[scenario] = reason;
        Console.Error.WriteLine($"   peer skipped: {reason}");
    }

    public void AddIdle(IdleResult result) => _idle.Add(result);

    public void Skip(string scenario, string reason)
    {
        _rows.Add(new Row(scenario, "-", null, reason));
        Console.Error.WriteLine($"   skipped: {reason}");
    }

    public void Print(TextWriter output, ProcessMetrics metrics)
    {
        var baseline = Median(_rows.Where(r => r.Scenario == Scenarios.Alive && r.Result is not null).Select(r => r.Result!).ToList());
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        output.WriteLine();
        var summed = metrics.Processes.Count > 1;
        output.WriteLine(options.Targets.Count == 1 && !summed
            ? Invariant($"LiveGrains gateway benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; target {options.Target}{(metrics.Pid is { } pid ? $" (pid {pid})" : string.Empty)}")
            : Invariant($"LiveGrains gateway benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {options.Targets.Count} target(s) {string.Join(", ", options.Targets)} (workers round-robin, one connection pool each){(metrics.Processes.Count > 0 ? $"; RSS and CPU summed over {string.Join(", ", metrics.Processes)}" : string.Empty)}"));
        var load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
        output.WriteLine(Invariant($"host: {Environment.ProcessorCount} cores ({cpu ?? "?"}), {RuntimeInformation.OSDescription}, .NET {Environment.Version}; load generator on the same host; load average at the end {load}"));
        if (options.Note is { } note)
        {
            output.WriteLine(note);
        }

        output.WriteLine(Invariant($"concurrency {options.Concurrency}, warmup {options.Warmup.TotalSeconds:0.#} s, measured {options.Duration.TotalSeconds:0.#} s, {options.Runs} run(s) per scenario"));
        var withPeer = options.PeerTarget is not null;
        if (withPeer)
        {
            output.WriteLine(Invariant($"peer: the stateless redis-stateless peer at {options.PeerTarget}{(options.PeerProcesses is [var p] ? $" (pid {p.Pid})" : string.Empty)}, same load generator, concurrency and room ids, its own connection pool"));
        }

        output.WriteLine();
        var peerHeader = withPeer ? " peer req/s | peer p50 ms | peer p99 ms | peer CPU % | peer RSS MiB | peer vs its /alive | **vs peer** |" : string.Empty;
        var peerAlign = withPeer ? " ---: | ---: | ---: | ---: | ---: | ---: | ---: |" : string.Empty;
        output.WriteLine(summed
            ? Invariant($"| scenario | run | req/s | vs /alive | p50 ms | p99 ms | max ms | errors | RSS MiB (sum of {metrics.Processes.Count}) | peak RSS MiB (sum of {metrics.Processes.Count}) | CPU % (sum of {metrics.Processes.Count}) | events/s |{peerHeader} notes |")
            : $"| scenario | run | req/s | vs /alive | p50 ms | p99 ms | max ms | errors | RSS MiB | peak RSS MiB | CPU % | events/s |{peerHeader} notes |");
        output.WriteLine($"| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |{peerAlign} --- |");
        var peerAliveBaseline = Median([.. _peer.Where(p => p.Key.Scenario == Scenarios.Alive).Select(p => p.Value)]);
        foreach (var scenario in _rows.Select(r => r.Scenario).Distinct())
        {
            var rows = _rows.Where(r => r.Scenario == scenario).ToList();
            var results = rows.Where(r => r.Result is not null).Select(r => r.Result!).ToList();
            if (results.Count > 1)
            {
                rows.Add(new Row(scenario, "median", Median(results), Median(results)!.Note));
            }

            var paired = _baselines.Where(b => b.Key.Scenario == scenario).Select(b => b.Value).ToList();
            var peerRuns = _peer.Where(p => p.Key.Scenario == scenario).Select(p => p.Value).ToList();
            var peerPaired = _peerBaselines.Where(b => b.Key.Scenario == scenario).Select(b => b.Value).ToList();
            foreach (var row in rows)
            {
                var rowBaseline = _baselines.TryGetValue((scenario, row.Run), out var own) ? own
                    : row.Run == "median" && paired.Count > 0 ? Median(paired)
                    : baseline;
                var peerCells = string.Empty;
                if (withPeer)
                {
                    var peerRun = _peer.TryGetValue((scenario, row.Run), out var p) ? p
                        : row.Run == "median" ? Median(peerRuns)
                        : null;
                    var peerBaseline = _peerBaselines.TryGetValue((scenario, row.Run), out var pb) ? pb
                        : row.Run == "median" && peerPaired.Count > 0 ? Median(peerPaired)
                        : peerAliveBaseline;
                    peerCells = PeerCells(row.Result, peerRun, peerBaseline, _peerSkipped.TryGetValue(scenario, out var why) ? why
                        : Scenarios.PeerScenarios.Contains(scenario) ? null : "not served by the peer");
                }

                output.WriteLine(Format(row, rowBaseline, peerCells));
            }
        }

        output.WriteLine();
        output.WriteLine("req/s: answers with the expected status per second; latencies cover every answer. " +
            "vs /alive: req/s over GET /alive req/s measured right before that run (median row: over the median of those). " +
            (summed
                ? Invariant($"RSS, peak RSS and CPU (100% = one core) are sums over the {metrics.Processes.Count} processes {string.Join(", ", metrics.Processes.Select(p => p.Name ?? p.ToString()))} (not redis-server); peak RSS adds each process's own VmHWM within the measured window. ")
                : "RSS, peak RSS (VmHWM within the measured window) and CPU (100% = one core) are the gateway process's. ") +
            (options.Targets.Count > 1
                ? Invariant($"Workers are bound round-robin to the {options.Targets.Count} gateways ({options.Concurrency} in all), /alive baselines alike. ")
                : string.Empty) +
            "events/s: ids accepted by batch activity per second, or what the row's note names (webhook deliveries, drop calls)." +
            (withPeer
                ? " peer: the same scenario against the stateless peer in the same invocation (every other run measured it first); " +
                  "peer vs its /alive: over the peer's own GET /alive measured right before; vs peer: LiveGrains req/s over the peer's " +
                  "(median row: median over median). Peer CPU and RSS are the peer process's only (Redis is shared and counted in neither)."
                : string.Empty));

        foreach (var idle in _idle)
        {
            PrintIdle(output, idle);
        }
    }

    private static void PrintIdle(TextWriter output, IdleResult idle)
    {
        output.WriteLine();
        output.WriteLine(Invariant($"idle-lives: {idle.Lives:N0} lives put on air by go-live on {idle.Lives:N0} rooms in {idle.SetupSeconds:0.0} s, then no traffic; targets < 5% of a core and < 4 KB per live"));
        output.WriteLine();
        output.WriteLine("| idle-lives | on-air lives | window s | CPU % (100 = one core) | RSS MiB at the end | RSS growth per live KB |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        var rows = idle.Runs.ToList();
        if (rows.Count > 1)
        {
            var median = rows.OrderBy(r => r.CpuPercent ?? 0).ElementAt((rows.Count - 1) / 2);
            rows.Add(median with { Run = "median (by CPU)" });
        }

        rows.Insert(0, idle.AfterSetup);
        foreach (var window in rows.Prepend(idle.Before))
        {
            var perLive = window.Lives > 0 ? idle.KiBPerLive(window) : null;
            output.WriteLine(Invariant(
                $"| {window.Run} | {window.Lives:N0} | {window.Seconds:0.0} | {(window.CpuPercent is { } cpu ? cpu.ToString("0.0", CultureInfo.InvariantCulture) : "-")} | {MiB(window.RssKiB)} | {(perLive is { } kib ? (kib * 1.024).ToString("0.00", CultureInfo.InvariantCulture) : "-")} |"));
        }

        output.WriteLine();
        if (idle.HeapBefore is { } hb && idle.HeapAfterSetup is { } hs && idle.HeapAfter is { } ha)
        {
            output.WriteLine(
                Invariant($"After a full GC (forced by dotnet-gcdump) before the set-up, right after it and after the last window: live managed heap {hb.LiveBytes / 1048576.0:0.0} -> {hs.LiveBytes / 1048576.0:0.0} -> {ha.LiveBytes / 1048576.0:0.0} MiB: ")
                + Invariant($"**{PerLive(hs, hb, idle.Lives)} KB per live right after the set-up, {PerLive(ha, hb, idle.Lives)} KB per live from {idle.SettleSeconds:0} s after it on (steady state)**; ")
                + Invariant($"RSS right after each GC {MiB(hb.RssKiB)} -> {MiB(hs.RssKiB)} -> {MiB(ha.RssKiB)} MiB, {RssPerLive(hs, hb, idle.Lives)} and {RssPerLive(ha, hb, idle.Lives)} KB per live."));
        }

        output.WriteLine(Invariant($"Rows: the window before the set-up, one right after it (rooms still activated), then the runs from {idle.SettleSeconds:0} s after the set-up on (idle rooms collected: the steady state). ")
            + "RSS growth per live: RSS at the end of the window minus RSS at the end of the window before the set-up, over the lives " +
            "(KB = 1,000 bytes; it includes what the set-up's garbage left in the server GC's heaps). CPU is the gateway process's over the window." +
            (idle.Note is null ? string.Empty : " Note: " + idle.Note + "."));
    }

    private static string PerLive(HeapReading reading, HeapReading before, int lives) =>
        ((reading.LiveBytes - before.LiveBytes) / 1000.0 / lives).ToString("0.00", CultureInfo.InvariantCulture);

    private static string RssPerLive(HeapReading reading, HeapReading before, int lives) =>
        reading.RssKiB is { } after && before.RssKiB is { } start ? ((after - start) * 1.024 / lives).ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static string PeerCells(RunResult? row, RunResult? peer, RunResult? peerBaseline, string? missing)
    {
        if (peer is null)
        {
            return $" {missing ?? "-"} | - | - | - | - | - | - |";
        }

        var ratio = row is not null && peer.RequestsPerSecond > 0 ? Invariant($"**{row.RequestsPerSecond / peer.RequestsPerSecond:0.00}x**") : "-";
        var ownRatio = peerBaseline is not null && peerBaseline.RequestsPerSecond > 0 ? Invariant($"{peer.RequestsPerSecond / peerBaseline.RequestsPerSecond:0.00}x") : "-";
        string[] cells =
        [
            Invariant($"{peer.RequestsPerSecond:N0}"), Ms(peer.Latency.Percentile(50)), Ms(peer.Latency.Percentile(99)),
            peer.CpuPercent is { } cpu ? Invariant($"{cpu:0}") : "-", MiB(peer.End?.RssKiB), ownRatio, ratio,
        ];
        return $" {string.Join(" | ", cells)} |";
    }

    /// <summary>The run in the middle: by req/s, or by p99 for a paced sampling loop whose req/s is fixed.</summary>
    private static RunResult? Median(List<RunResult> results) => results.Count == 0
        ? null
        : results.OrderBy(r => r.Paced ? -r.Latency.Percentile(99) : r.RequestsPerSecond).ElementAt((results.Count - 1) / 2);

    private static string Format(Row row, RunResult? baseline, string peerCells)
    {
        if (row.Result is not { } r)
        {
            return $"| {row.Scenario} | {row.Run} | - | - | - | - | - | - | - | - | - | - |{peerCells} {row.Note} |";
        }

        var ratio = r.Paced || baseline is null || baseline.RequestsPerSecond == 0
            ? "-"
            : Invariant($"{r.RequestsPerSecond / baseline.RequestsPerSecond:0.00}x");
        var events = r.Events > 0 ? Invariant($"{r.EventsPerSecond:N0}") : "-";
        string[] cells =
        [
            row.Scenario, row.Run, Invariant($"{r.RequestsPerSecond:N0}"), ratio,
            Ms(r.Latency.Percentile(50)), Ms(r.Latency.Percentile(99)), Ms(r.Latency.Max), Errors(r.Errors),
            MiB(r.End?.RssKiB), MiB(r.End?.PeakRssKiB), r.CpuPercent is { } cpu ? Invariant($"{cpu:0}") : "-", events,
        ];
        return $"| {string.Join(" | ", cells)} |{peerCells} {row.Note ?? string.Empty} |";
    }

    private static string Ms(long micros) => (micros / 1000.0).ToString(micros < 10_000 ? "0.00" : "0.0", CultureInfo.InvariantCulture);

    private static string MiB(long? kib) => kib is { } k ? (k / 1024.0).ToString("0", CultureInfo.InvariantCulture) : "-";

    private static string Errors(IReadOnlyDictionary<string, long> errors) => errors.Count == 0
        ? "0"
        : string.Join(", ", errors.OrderByDescending(e => e.Value).Select(e => Invariant($"{e.Key}: {e.Value:N0}")));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Row(string Scenario, string Run, RunResult? Result, string? Note);
}
