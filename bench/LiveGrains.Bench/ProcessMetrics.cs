using System.Diagnostics;
using System.Globalization;

namespace LiveGrains.Bench;

/// <summary>One reading of the measured processes' CPU time and memory from /proc, summed when there are several.</summary>
public sealed record ProcessSample(long Timestamp, double CpuSeconds, long RssKiB, long PeakRssKiB);

/// <summary>A process whose CPU and memory go into the table; <paramref name="Name"/> is the label given with <c>--pid NAME=PID</c>.</summary>
public sealed record MeasuredProcess(string? Name, int Pid)
{
    public override string ToString() => Name is null
        ? string.Create(CultureInfo.InvariantCulture, $"pid {Pid}")
        : string.Create(CultureInfo.InvariantCulture, $"{Name} (pid {Pid})");
}

/// <summary>
/// Reads CPU and memory from /proc/&lt;pid&gt; of every measured process (the co-hosted gateway, or the silos and gateways
/// of a cluster) and sums them; every reading is null without a pid.
/// </summary>
public sealed class ProcessMetrics(IReadOnlyList<MeasuredProcess> processes)
{
    // utime and stime are in USER_HZ clock ticks, which Linux fixes at 100 on every architecture it ships for.
    private const double TicksPerSecond = 100;

    public IReadOnlyList<MeasuredProcess> Processes { get; } = processes;

    /// <summary>The pid when exactly one process is measured, as before several could be.</summary>
    public int? Pid => Processes is [var only] ? only.Pid : null;

    public bool IsAlive => Exited is null;

    /// <summary>The first measured process that is gone (or a zombie), or null while all run.</summary>
    public MeasuredProcess? Exited => Processes.FirstOrDefault(p => !Directory.Exists($"/proc/{p.Pid}") || ReadState(p.Pid) is 'Z' or 'X');

    /// <summary>How messages name <paramref name="process"/>: "The gateway (pid N)" when it is the only, unnamed one.</summary>
    public string Describe(MeasuredProcess process) => Processes.Count == 1 && process.Name is null
        ? string.Create(CultureInfo.InvariantCulture, $"The gateway (pid {process.Pid})")
        : process.ToString();

    /// <summary>The sum over every measured process; null when there is none or one cannot be read, never a partial sum.</summary>
    public ProcessSample? Sample()
    {
        if (Processes.Count == 0)
        {
            return null;
        }

        double cpu = 0;
        long rss = 0, peak = 0;
        foreach (var process in Processes)
        {
            if (Read(process.Pid) is not { } reading)
            {
                return null;
            }

            cpu += reading.CpuSeconds;
            rss += reading.RssKiB;
            peak += reading.PeakRssKiB;
        }

        return new ProcessSample(Stopwatch.GetTimestamp(), cpu, rss, peak);
    }

    /// <summary>Resets VmHWM to the current RSS so that the next peak belongs to one scenario; needs root or the same user.</summary>
    public void ResetPeak()
    {
        foreach (var process in Processes)
        {
            try
            {
                File.WriteAllText($"/proc/{process.Pid}/clear_refs", "5");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Then the peak is the process's lifetime peak; the table still says what it measured.
            }
        }
    }

    /// <summary>CPU use between two samples in percent of one core (200% = two cores busy).</summary>
    public static double? CpuPercent(ProcessSample? start, ProcessSample? end)
    {
        if (start is null || end is null)
        {
            return null;
        }

        var wall = Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds;
        return wall <= 0 ? null : (end.CpuSeconds - start.CpuSeconds) / wall * 100;
    }

    private static (double CpuSeconds, long RssKiB, long PeakRssKiB)? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the parenthesised command name, which may itself hold spaces: state is [0], utime [11], stime [12].
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            long rss = 0, peak = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ParseKiB(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = ParseKiB(line);
                }
            }

            return (ticks / TicksPerSecond, rss, peak);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static long ParseKiB(string line) =>
        long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);

    private static char ReadState(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return 'X';
        }
    }
}
