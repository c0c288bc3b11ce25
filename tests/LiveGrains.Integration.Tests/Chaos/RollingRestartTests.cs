using LiveGrains.Chaos;
using Xunit.Abstractions;

namespace LiveGrains.Integration.Tests.Chaos;

/// <summary>
/// An operator's rolling restart: under continuous load through two co-hosted gateways, each of three silos in turn gets
/// SIGTERM, exits gracefully, starts again and rejoins before the next one goes. No client may see a failure.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class RollingRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RestartingEverySiloOneAtATimeUnderLoadFailsNoRequest()
    {
        var report = await ChaosRun.RunAsync(
            new ChaosOptions { Duration = TimeSpan.FromSeconds(20), Mode = ChaosMode.Rolling, Concurrency = 12 },
            line => output.WriteLine(line));

        output.WriteLine(report.Summary);
        Assert.True(report.Violations.Count == 0, report.Summary);

        // Every attempt answered 2xx or an expected business 4xx: no 5xx, no broken connection, no client timeout.
        Assert.True(report.FailedAttempts == 0, $"{report.FailedAttempts} requests failed during the rolling restart.\n{report.Summary}");
    }
}
