using LiveGrains.Chaos;
using Xunit.Abstractions;

namespace LiveGrains.Integration.Tests.Chaos;

/// <summary>
/// The short form of bench/chaos.sh: 3 silos + 2 co-hosted gateways on a real redis-server, mixed load, kill -9 of a
/// silo every 20 s and one kill -9 of Redis, then the whole history is checked. The long form and its results:
/// docs/chaos.md.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ChaosTests(ITestOutputHelper output)
{
    [Fact]
    public async Task KillingSilosAndRedisUnderLoadBreaksNoInvariantAndLosesNoAcknowledgedWrite()
    {
        var report = await ChaosRun.RunAsync(
            new ChaosOptions { Duration = TimeSpan.FromSeconds(90), Mode = ChaosMode.Kill, Concurrency = 16 },
            line => output.WriteLine(line));

        output.WriteLine(report.Summary);
        Assert.True(report.Violations.Count == 0, report.Summary);
    }
}

/// <summary>Chaos tests start five services each: never two at once on a shared machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "chaos";
}
