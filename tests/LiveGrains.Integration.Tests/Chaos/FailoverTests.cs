using LiveGrains.Chaos;
using Xunit.Abstractions;

namespace LiveGrains.Integration.Tests.Chaos;

/// <summary>
/// Failover (issue 11): a silo declared dead stops serving, a killed silo's rooms come back within seconds, and a
/// cluster whose every node was killed comes back by itself. Real processes (3 silos, 2 co-hosted gateways) on a real
/// redis-server, mixed load, then the whole history is checked (bench/LiveGrains.Chaos). Figures: docs/chaos.md.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ASiloPausedUntilDeclaredDeadStopsOnResumeAndServesNoStaleStateNorLosesAWrite()
    {
        var report = await ChaosRun.RunAsync(
            new ChaosOptions { Duration = TimeSpan.FromSeconds(50), Mode = ChaosMode.Pause, Concurrency = 12, KillInterval = TimeSpan.FromSeconds(15) },
            line => output.WriteLine(line));

        output.WriteLine(report.Summary);

        // The pause must have happened and ended in a declaration of death: a run without one proves nothing.
        Assert.True(report.DetectionSeconds.Count >= 1, $"No paused silo was declared dead.\n{report.Summary}");
        Assert.True(report.FencedExitSeconds.Count == report.DetectionSeconds.Count, $"A resumed silo did not stop by itself.\n{report.Summary}");
        Assert.True(report.Violations.Count == 0, report.Summary);
    }

    [Fact]
    public async Task AfterASiloIsKilledEveryRoomAnswersAgainWithinTenSeconds()
    {
        var report = await ChaosRun.RunAsync(
            new ChaosOptions { Duration = TimeSpan.FromSeconds(60), Mode = ChaosMode.Kill, KillRedis = false, Concurrency = 12 },
            line => output.WriteLine(line));

        output.WriteLine(report.Summary);
        Assert.True(report.DetectionSeconds.Count >= 2, $"Fewer than two silos were killed and declared dead.\n{report.Summary}");
        Assert.True(report.Violations.Count == 0, report.Summary);

        // Loose enough for a loaded CI machine; the chaos benchmark's target is 3 s (docs/chaos.md).
        Assert.True(report.LongestUnavailabilitySeconds <= 10, $"A room was unavailable for {report.LongestUnavailabilitySeconds:0.0} s.\n{report.Summary}");
    }

    [Fact]
    public async Task AfterEveryNodeIsKilledTheRestartedClusterServesWithEveryAcknowledgedWrite()
    {
        // Two total crashes: the nodes restart all at once after the first, one at a time after the second.
        var report = await ChaosRun.RunAsync(
            new ChaosOptions { Duration = TimeSpan.FromSeconds(30), Mode = ChaosMode.ColdStart, Concurrency = 8, KillInterval = TimeSpan.FromSeconds(10) },
            line => output.WriteLine(line));

        output.WriteLine(report.Summary);
        Assert.True(report.ColdStartSeconds.Count >= 2, $"Expected two total crashes and restarts.\n{report.Summary}");
        Assert.True(report.Violations.Count == 0, report.Summary);

        // The target is 10 s (docs/chaos.md has the figures). Loose: on the shared 2-core VM one node alone takes 10-30 s to
        // start on an empty table, and five starting at once share two cores.
        Assert.True(report.ColdStartSeconds.Max() <= 90, $"The restarted cluster took {report.ColdStartSeconds.Max():0.0} s to serve.\n{report.Summary}");
    }
}
