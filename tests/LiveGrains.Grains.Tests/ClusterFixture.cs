using LiveGrains.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace LiveGrains.Grains.Tests;

/// <summary>
/// A two-silo in-process cluster with in-memory storage and a fake LiveGrains clock shared by both silos.
/// Tests use fresh keys, so they share one cluster per collection.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        var clock = new LiveGrainsClock(Time);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Stats:ViewerTimeoutSeconds"] = "60",
            })
            .Build();
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(LiveGrainsStorage.State);
            silo.UseInMemoryReminderService();
            silo.Services.AddSingleton(clock);
            silo.Services.AddLiveGrainsSiloServices(configuration);
            TestSiloConfigurations.Configure(silo);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        GrainTestKit.Grains = Cluster.Client;
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>Hook for areas (stats, streams, webhooks) that need extra silo services in tests.</summary>
public static partial class TestSiloConfigurations
{
    static partial void ConfigureAreas(ISiloBuilder silo);

    public static void Configure(ISiloBuilder silo) => ConfigureAreas(silo);
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
