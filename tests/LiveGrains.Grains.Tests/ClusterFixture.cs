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
        var clock = new LiveGrainsClock(Time);
        Cluster = await TestClusters.DeployAsync(
            2,
            silo =>
            {
                silo.AddMemoryGrainStorage(LiveGrainsStorage.State);
                silo.Services.AddSingleton(clock);
                silo.Services.AddSingleton<LiveGrains.Grains.Streams.IMediaServerControl>(Ingest.RecordingMediaServerControl.Instance);
            },
            new Dictionary<string, string?> { ["Stats:ViewerTimeoutSeconds"] = "60" });
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

/// <summary>In-process clusters of LiveGrains silos, for the fixtures that each need their own.</summary>
public static class TestClusters
{
    /// <summary>
    /// Deploys <paramref name="silos"/> silos with in-memory reminders and LiveGrains' silo services. <paramref name="configure"/>
    /// runs first, so what it registers (grain storage, a clock, an event sink) is what those services then use.
    /// </summary>
    public static async Task<InProcessTestCluster> DeployAsync(short silos, Action<ISiloBuilder> configure, IDictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) =>
        {
            configure(silo);
            silo.UseInMemoryReminderService();
            silo.Services.AddLiveGrainsSiloServices(configuration);
            TestSiloConfigurations.Configure(silo);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
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
