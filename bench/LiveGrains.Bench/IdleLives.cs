using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace LiveGrains.Bench;

/// <summary>One idle window: the gateway's CPU over it and its RSS at its end.</summary>
public sealed record IdleWindow(string Run, int Lives, double Seconds, double? CpuPercent, long? RssKiB);

/// <summary>
/// What idle-lives measured: the window before the set-up, one right after it, the steady-state windows after the settle
/// period, and the memory each live added right after the set-up and in the steady state.
/// </summary>
public sealed record IdleResult(
    int Lives,
    double SetupSeconds,
    IdleWindow Before,
    IdleWindow AfterSetup,
    double SettleSeconds,
    IReadOnlyList<IdleWindow> Runs,
    HeapReading? HeapBefore,
    HeapReading? HeapAfterSetup,
    HeapReading? HeapAfter,
    string? Note)
{
    /// <summary>RSS growth per live in KiB: RSS at the end of a window minus RSS before the set-up, over the lives.</summary>
    public double? KiBPerLive(IdleWindow window) =>
        window.RssKiB is { } after && Before.RssKiB is { } before ? (after - before) / (double)Lives : null;
}

/// <summary>
/// A full GC forced by <c>dotnet-gcdump collect</c>: the managed heap's live bytes it reported, and the process's RSS
/// right after it (the garbage of the set-up is gone by then).
/// </summary>
public sealed record HeapReading(long LiveBytes, long? RssKiB);

/// <summary>
/// idle-lives (issue 10, item 3): puts <see cref="BenchOptions.Lives"/> lives on air through go-live on as many rooms,
/// then sends nothing and measures the gateway's CPU over <see cref="BenchOptions.Idle"/> seconds and its memory
/// growth per live. The same window is measured first before the set-up, so the idle cost of the process itself shows.
/// A live costs more right after its go-live (its room is still activated) than once its room was collected, so it is
/// measured twice: right after the set-up (one window and a heap reading) and, the steady state, the
/// <see cref="BenchOptions.Runs"/> windows from <see cref="BenchOptions.Settle"/> after the set-up on.
/// </summary>
public static partial class IdleLives
{
    private const string RoomPrefix = "bench-i";

    public static async Task<IdleResult> MeasureAsync(BenchContext context, ProcessMetrics metrics, CancellationToken cancellationToken)
    {
        var options = context.Options;
        if (metrics.Processes.Count == 0)
        {
            throw new ScenarioSkippedException("needs --pid: it measures the gateway process, not requests");
        }

        var gcdump = metrics.Pid is not null ? FindGcDump() : null;
        var notes = new List<string>();
        if (metrics.Pid is null)
        {
            notes.Add("several processes: no GC heap reading");
        }
        else if (gcdump is null)
        {
            notes.Add("dotnet-gcdump not found (dotnet tool install -g dotnet-gcdump): no GC heap reading");
        }

        Console.Error.WriteLine($"   before set-up: {options.Idle.TotalSeconds:0} s idle window");
        var before = await WindowAsync("before set-up", 0, metrics, options.Idle, cancellationToken);
        var heapBefore = gcdump is null ? null : await ReadHeapAsync(gcdump, metrics, cancellationToken);

        Console.Error.WriteLine($"   putting {options.Lives:N0} lives on air (one go-live in each of {options.Lives:N0} rooms)");
        var setup = Stopwatch.StartNew();
        await context.RoomsWithLivesAsync(RoomPrefix, options.Lives, cancellationToken);
        var setupSeconds = setup.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"   set up in {setupSeconds:F1} s; settling {options.Warmup.TotalSeconds:0} s");
        await Task.Delay(options.Warmup, cancellationToken);

        var afterSetup = await WindowAsync("right after set-up", options.Lives, metrics, options.Idle, cancellationToken);
        Console.Error.WriteLine(
            $"   right after set-up: CPU {Format(afterSetup.CpuPercent, "0.0")}% of a core, RSS {Format(afterSetup.RssKiB / 1024.0, "0")} MiB");
        var heapAfterSetup = gcdump is null ? null : await ReadHeapAsync(gcdump, metrics, cancellationToken);

        // The steady state: idle rooms are collected once their age (plus up to one collection quantum) has passed.
        var settle = options.Settle - setup.Elapsed + TimeSpan.FromSeconds(setupSeconds);
        if (settle > TimeSpan.Zero)
        {
            Console.Error.WriteLine($"   waiting {settle.TotalSeconds:0} s more, to {options.Settle.TotalSeconds:0} s after the set-up (idle rooms' collection)");
            await Task.Delay(settle, cancellationToken);
        }

        var runs = new List<IdleWindow>();
        for (var run = 1; run <= options.Runs; run++)
        {
            var window = await WindowAsync(run.ToString(CultureInfo.InvariantCulture), options.Lives, metrics, options.Idle, cancellationToken);
            runs.Add(window);
            Console.Error.WriteLine(
                $"   run {run}: CPU {Format(window.CpuPercent, "0.0")}% of a core, RSS {Format(window.RssKiB / 1024.0, "0")} MiB");
        }

        var heapAfter = gcdump is null ? null : await ReadHeapAsync(gcdump, metrics, cancellationToken);
        if (gcdump is not null && (heapBefore is null || heapAfterSetup is null || heapAfter is null))
        {
            notes.Add("dotnet-gcdump failed: no GC heap reading");
        }

        return new IdleResult(
            options.Lives, setupSeconds, before, afterSetup, options.Settle.TotalSeconds, runs, heapBefore, heapAfterSetup, heapAfter,
            notes.Count == 0 ? null : string.Join("; ", notes));
    }

    private static async Task<IdleWindow> WindowAsync(string run, int lives, ProcessMetrics metrics, TimeSpan window, CancellationToken cancellationToken)
    {
        var start = metrics.Sample();
        await Task.Delay(window, cancellationToken);
        var end = metrics.Sample();
        var seconds = start is not null && end is not null ? Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds : window.TotalSeconds;
        return new IdleWindow(run, lives, seconds, ProcessMetrics.CpuPercent(start, end), end?.RssKiB);
    }

    /// <summary>Forces a full GC in the gateway with dotnet-gcdump and reads the live heap size it reports.</summary>
    internal static async Task<HeapReading?> ReadHeapAsync(string gcdump, ProcessMetrics metrics, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Path.GetTempPath(), $"livegrains-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.gcdump");
        try
        {
            var (collected, collectOutput) = await RunAsync(gcdump, ["collect", "-p", metrics.Pid!.Value.ToString(CultureInfo.InvariantCulture), "-o", file], cancellationToken);
            var rss = metrics.Sample()?.RssKiB;
            if (!collected || !File.Exists(file))
            {
                Console.Error.WriteLine($"   dotnet-gcdump collect failed: {collectOutput.Trim()}");
                return null;
            }

            var (reported, report) = await RunAsync(gcdump, ["report", file], cancellationToken);
            // The report's first row is the total: "<bytes>  GC Heap bytes" (size in bytes, thousands separated or not).
            var total = TotalLine().Match(report);
            if (!reported || !total.Success)
            {
                Console.Error.WriteLine($"   dotnet-gcdump report gave no total: {report[..Math.Min(report.Length, 400)].Trim()}");
                return null;
            }

            var bytes = long.Parse(total.Groups[1].Value.Replace(",", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture);
            Console.Error.WriteLine($"   full GC (dotnet-gcdump): live managed heap {bytes / 1048576.0:N1} MiB, RSS after it {Format(rss / 1024.0, "0")} MiB");
            return new HeapReading(bytes, rss);
        }
        finally
        {
            // BENCH_GCDUMP_DIR keeps each dump (for `dotnet-gcdump report` by type); otherwise it goes.
            if (Environment.GetEnvironmentVariable("BENCH_GCDUMP_DIR") is { Length: > 0 } keep && File.Exists(file))
            {
                Directory.CreateDirectory(keep);
                var kept = Path.Combine(keep, $"{DateTime.UtcNow:HHmmss}-{Path.GetFileName(file)}");
                File.Move(file, kept);
                Console.Error.WriteLine($"   gcdump kept: {kept}");
            }
            else
            {
                File.Delete(file);
            }
        }
    }

    private static async Task<(bool Ok, string Output)> RunAsync(string file, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return (false, "timed out after 5 minutes");
        }

        return (process.ExitCode == 0, await output + await error);
    }

    /// <summary>dotnet-gcdump on the PATH or where <c>dotnet tool install -g</c> puts it.</summary>
    internal static string? FindGcDump()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.Combine(home, ".dotnet", "tools"))
            .Select(dir => Path.Combine(dir, "dotnet-gcdump"))
            .FirstOrDefault(File.Exists);
    }

    private static string Format(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    [GeneratedRegex(@"^\s*([\d,]+)\s+GC Heap bytes", RegexOptions.Multiline)]
    private static partial Regex TotalLine();
}
