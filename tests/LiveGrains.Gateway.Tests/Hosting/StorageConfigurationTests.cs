using Azure.Storage.Blobs;
using LiveGrains.Grains;
using LiveGrains.ServiceDefaults;
using LiveGrains.ServiceDefaults.Storage;
using LiveGrains.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Persistence;

namespace LiveGrains.Gateway.Tests.Hosting;

/// <summary><c>Storage:Provider</c> and its connection strings are checked when the host is built, with messages that name the setting.</summary>
public sealed class StorageConfigurationTests
{
    private const string AzuriteDefaults = "UseDevelopmentStorage=true";

    [Fact]
    public void WithoutAnySettingStateIsInMemory()
    {
        var storage = Resolve();

        Assert.Equal(StorageProvider.Memory, storage.Provider);
        Assert.False(storage.IsDurable);
    }

    [Fact]
    public void ARedisConnectionStringAloneSelectsRedisAsBefore()
    {
        var storage = Resolve(("ConnectionStrings:redis", "127.0.0.1:6379"));

        Assert.Equal(StorageProvider.Redis, storage.Provider);
        Assert.Equal("127.0.0.1:6379", storage.RedisConnectionString);
    }

    [Fact]
    public void RedisGrainStorageDeletesAClearedStateInsteadOfKeepingAnEmptyHash()
    {
        // Expired feed and audit pages and the superseded records of every index and feed log are cleared: with Orleans'
        // default each would stay in Redis as an empty hash forever.
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:redis"] = "127.0.0.1:6379";
        builder.UseOrleans(silo => silo.UseLiveGrainsSilo(builder.Configuration));
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptionsMonitor<RedisStorageOptions>>().Get(LiveGrainsStorage.State);

        Assert.True(options.DeleteStateOnClear);
    }

    [Fact]
    public void TheAzureProviderTakesItsConnectionStringAndADefaultContainer()
    {
        var storage = Resolve(("Storage:Provider", "Azure"), ("ConnectionStrings:azure-storage", AzuriteDefaults), ("ConnectionStrings:redis", "127.0.0.1:6379"));

        Assert.Equal(StorageProvider.Azure, storage.Provider);
        Assert.True(storage.IsDurable);
        Assert.Equal(AzuriteDefaults, storage.AzureConnectionString);
        Assert.Null(storage.RedisConnectionString);
        Assert.Equal("livegrains-state", storage.AzureContainerName);
    }

    [Fact]
    public void TheAzureProviderWithoutItsConnectionStringStopsTheStart()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolve(("Storage:Provider", "azure")));

        Assert.Contains("Storage:Provider=azure needs ConnectionStrings:azure-storage", error.Message);
    }

    [Fact]
    public void TheRedisProviderWithoutItsConnectionStringStopsTheStart()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolve(("Storage:Provider", "redis")));

        Assert.Contains("Storage:Provider=redis needs ConnectionStrings:redis", error.Message);
    }

    [Theory]
    [InlineData("cosmos")]
    [InlineData("2")]
    public void AnUnknownProviderIsNamed(string provider)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolve(("Storage:Provider", provider)));

        Assert.Contains($"Storage:Provider must be memory, redis or azure (was '{provider}')", error.Message);
    }

    [Fact]
    public void AMalformedAzureConnectionStringIsRejectedWithoutRepeatingIt()
    {
        const string secret = "DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0LWtleQ==";
        var error = Assert.Throws<InvalidOperationException>(
            () => Resolve(("Storage:Provider", "azure"), ("ConnectionStrings:azure-storage", secret)));

        Assert.Contains("ConnectionStrings:azure-storage is not a valid Azure Storage connection string", error.Message);
        Assert.DoesNotContain("c2VjcmV0LWtleQ", error.Message);
    }

    [Theory]
    [InlineData("Upper-Case")]
    [InlineData("ab")]
    [InlineData("double--hyphen")]
    [InlineData("-leading")]
    public void AnInvalidContainerNameIsRejected(string container)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolve(
            ("Storage:Provider", "azure"), ("ConnectionStrings:azure-storage", AzuriteDefaults), ("Storage:Azure:ContainerName", container)));

        Assert.Contains($"Storage:Azure:ContainerName '{container}' is not a valid blob container name", error.Message);
    }

    [Fact]
    public void TheGatewayDoesNotStartWithTheAzureProviderAndNoConnectionString()
    {
        using var factory = new GatewayFactory();
        factory.Settings["Storage:Provider"] = "azure";

        var error = Assert.Throws<InvalidOperationException>(() => factory.CreateClient());

        Assert.Contains("ConnectionStrings:azure-storage", error.Message);
    }

    [Fact]
    public async Task ACoHostedSiloKeepsGrainStateInTheAzureContainerAndReportsItsHealth()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await using var factory = new GatewayFactory();
        factory.Settings["Storage:Provider"] = "azure";
        factory.Settings["ConnectionStrings:azure-storage"] = azurite.ConnectionString;
        var client = factory.CreateClient(GatewayFactory.AcmeKey);

        var roomId = Http.Unique("azure");
        (await client.PostJsonAsync("/v1/rooms", new { room_id = roomId })).EnsureSuccessStatusCode();

        var blobs = new List<string>();
        await foreach (var blob in new BlobContainerClient(azurite.ConnectionString, StorageOptions.DefaultAzureContainerName).GetBlobsAsync())
        {
            blobs.Add(blob.Name);
        }

        Assert.Contains(blobs, name => name.Contains(roomId, StringComparison.Ordinal));
        var health = factory.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(r => r.Name == "azure-storage")).Status);
    }

    [Fact]
    public async Task TheRedisHealthCheckAndTheIdempotencyRecordsShareOneConnectionThatFollowsRedis()
    {
        await using var redis = await RedisServer.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "redis",
            ["ConnectionStrings:redis"] = redis.ConnectionString,
        }).Build();
        var services = new ServiceCollection().AddSingleton(TimeProvider.System).AddLogging();
        services.AddLiveGrainsIdempotencyStore(configuration).AddLazyRedisConnection(configuration);
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis");
        await using var provider = services.BuildServiceProvider();

        // One lazy connection: registered by both, resolved once.
        Assert.Single(services, d => d.ServiceType == typeof(ILazyRedisConnection));
        var health = provider.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        var records = provider.GetRequiredService<LiveGrains.ServiceDefaults.Idempotency.IIdempotencyStore>();
        Assert.Equal(LiveGrains.Abstractions.IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "k1", "fp")).Outcome);

        await redis.StopAsync(RedisStopMode.Kill);
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);

        // The connection reconnects by itself once Redis is back.
        await redis.StartAsync();
        await Eventually.TrueAsync(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy, TimeSpan.FromSeconds(20), "the check to follow Redis back");
        Assert.Equal(LiveGrains.Abstractions.IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "k2", "fp")).Outcome);
    }

    [Fact]
    public async Task TheStorageHealthCheckFollowsAzurite()
    {
        // The check alone: a silo on an Azurite that is killed would lose its unsaved membership row and stop itself.
        await using var azurite = await AzuriteServer.StartAsync();
        var check = new AzureStorageHealthCheck(Resolve(("Storage:Provider", "azure"), ("ConnectionStrings:azure-storage", azurite.ConnectionString)));
        var context = new HealthCheckContext();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);

        await azurite.StopAsync(AzuriteStopMode.Kill);
        var down = await check.CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        Assert.DoesNotContain(AzuriteServer.AccountKey, down.Exception?.ToString() ?? string.Empty);

        await azurite.StartAsync();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
    }

    private static StorageOptions Resolve(params (string Key, string? Value)[] settings) =>
        StorageOptions.Resolve(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, s.Value)))
            .Build());
}
