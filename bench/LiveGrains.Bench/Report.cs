using System.Globalization;
using System.Runtime.InteropServices;

namespace LiveGrains.Bench;

/// <summary>Collects every run and prints them as a Markdown table for docs/benchmarks.md.</summary>
public sealed class Report(BenchOptions options)
{
    private readonly List<Row> _rows = [];
    private readonly Dictionary<(string Scenario, string Run), RunResult> _baselines = [];

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
        output.WriteLine(Invariant($"concurrency {options.Concurrency}, warmup {options.Warmup.TotalSeconds:0.#} s, measured {options.Duration.TotalSeconds:0.#} s, {options.Runs} run(s) per scenario"));
        output.WriteLine();
        output.WriteLine(summed
            ? Invariant($"| scenario | run | req/s | vs /alive | p50 ms | p99 ms | max ms | errors | RSS MiB (sum of {metrics.Processes.Count}) | peak RSS MiB (sum of {metrics.Processes.Count}) | CPU % (sum of {metrics.Processes.Count}) | events/s | notes |")
            : "| scenario | run | req/s | vs /alive | p50 ms | p99 ms | max ms | errors | RSS MiB | peak RSS MiB | CPU % | events/s | notes |");
        output.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var scenario in _rows.Select(r => r.Scenario).Distinct())
        {
            var rows = _rows.Where(r => r.Scenario == scenario).ToList();
            var results = rows.Where(r => r.Result is not null).Select(r => r.Result!).ToList();
            if (results.Count > 1)
            {
                rows.Add(new Row(scenario, "median", Median(results), Median(results)!.Note));
            }

            var paired = _baselines.Where(b => b.Key.Scenario == scenario).Select(b => b.Value).ToList();
            foreach (var row in rows)
            {
                var rowBaseline = _baselines.TryGetValue((scenario, row.Run), out var own) ? own
                    : row.Run == "median" && paired.Count > 0 ? Median(paired)
                    : baseline;
                output.WriteLine(Format(row, rowBaseline));
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
            "events/s: ids accepted by batch activity per second.");
    }

    /// <summary>The run in the middle: by req/s, or by p99 for a paced sampling loop whose req/s is fixed.</summary>
    private static RunResult? Median(List<RunResult> results) => results.Count == 0
        ? null
        : results.OrderBy(r => r.Paced ? -r.Latency.Percentile(99) : r.RequestsPerSecond).ElementAt((results.Count - 1) / 2);

    private static string Format(Row row, RunResult? baseline)
    {
        if (row.Result is not { } r)
        {
            return $"| {row.Scenario} | {row.Run} | - | - | - | - | - | - | - | - | - | - | {row.Note} |";
        }

        var ratio = r.Paced || baseline is null || baseline.RequestsPerSecond == 0
            ? "-"
            : Invariant($"{r.RequestsPerSecond / baseline.RequestsPerSecond:0.00}x");
        var events = r.Events > 0 ? Invariant($"{r.EventsPerSecond:N0}") : "-";
        string[] cells =
        [
            row.Scenario, row.Run, Invariant($"{r.RequestsPerSecond:N0}"), ratio,
            Ms(r.Latency.Percentile(50)), Ms(r.Latency.Percentile(99)), Ms(r.Latency.Max), Errors(r.Errors),
            MiB(r.End?.RssKiB), MiB(r.End?.PeakRssKiB), r.CpuPercent is { } cpu ? Invariant($"{cpu:0}") : "-", events, row.Note ?? string.Empty,
        ];
        return $"| {string.Join(" | ", cells)} |";
    }

    private static string Ms(long micros) => (micros / 1000.0).ToString(micros < 10_000 ? "0.00" : "0.0", CultureInfo.InvariantCulture);

    private static string MiB(long? kib) => kib is { } k ? (k / 1024.0).ToString("0", CultureInfo.InvariantCulture) : "-";

    private static string Errors(IReadOnlyDictionary<string, long> errors) => errors.Count == 0
        ? "0"
        : string.Join(", ", errors.OrderByDescending(e => e.Value).Select(e => Invariant($"{e.Key}: {e.Value:N0}")));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Row(string Scenario, string Run, RunResult? Result, string? Note);
}
