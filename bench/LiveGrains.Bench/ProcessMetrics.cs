using System.Diagnostics;
using System.Globalization;

namespace LiveGrains.Bench;

/// <summary>One reading of a process's CPU time and memory from /proc.</summary>
public sealed record ProcessSample(long Timestamp, double CpuSeconds, long RssKiB, long PeakRssKiB);

/// <summary>Reads the gateway's CPU and memory from /proc/&lt;pid&gt;; every reading is null without a pid.</summary>
public sealed class ProcessMetrics(int? pid)
{
    // utime and stime are in USER_HZ clock ticks, which Linux fixes at 100 on every architecture it ships for.
    private const double TicksPerSecond = 100;

    public int? Pid { get; } = pid;

    public bool IsAlive => Pid is { } p && Directory.Exists($"/proc/{p}") && ReadState(p) is not ('Z' or 'X');

    public ProcessSample? Sample()
    {
        if (Pid is not { } p)
        {
            return null;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{p}/stat");
            // Fields after the parenthesised command name, which may itself hold spaces: state is [0], utime [11], stime [12].
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            long rss = 0, peak = 0;
            foreach (var line in File.ReadLines($"/proc/{p}/status"))
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

            return new ProcessSample(Stopwatch.GetTimestamp(), ticks / TicksPerSecond, rss, peak);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Resets VmHWM to the current RSS so that the next peak belongs to one scenario; needs root or the same user.</summary>
    public void ResetPeak()
    {
        if (Pid is not { } p)
        {
            return;
        }

        try
        {
            File.WriteAllText($"/proc/{p}/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Then the peak is the process's lifetime peak; the table still says what it measured.
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
