using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests;

/// <summary>The durable backends a real cluster runs on (<c>Storage:Provider</c>).</summary>
public enum StorageBackend
{
    Redis,
    Azure,
}

/// <summary>
/// The real store under a cluster's membership, grain state and reminders, behind one face so that the same invariant
/// tests run on every backend: a real redis-server, or a real Azurite with its data on disk.
/// </summary>
public abstract class ClusterStore : IAsyncDisposable
{
    public abstract StorageBackend Backend { get; }

    public abstract bool IsRunning { get; }

    /// <summary>The settings that point a silo or client-mode gateway at this store.</summary>
    public abstract IReadOnlyDictionary<string, string?> Environment { get; }

    /// <summary>Starts a fresh store of <paramref name="backend"/> on free loopback ports.</summary>
    public static async Task<ClusterStore> StartAsync(StorageBackend backend) => backend switch
    {
        StorageBackend.Redis => new RedisStore(await RedisServer.StartAsync()),
        StorageBackend.Azure => new AzuriteStore(await AzuriteServer.StartAsync()),
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, null),
    };

    /// <summary>Starts the stopped store again on the same ports and data.</summary>
    public abstract Task StartAsync();

    /// <summary>Stops the store gracefully, as an operator's full restart would (Redis SHUTDOWN, Azurite SIGTERM).</summary>
    public abstract Task StopAsync();

    public abstract string Describe(int maxLines = 40);

    public abstract ValueTask DisposeAsync();

    public override string ToString() => Backend.ToString();

    private sealed class RedisStore(RedisServer redis) : ClusterStore
    {
        public override StorageBackend Backend => StorageBackend.Redis;

        public override bool IsRunning => redis.IsRunning;

        public override IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
        {
            ["Storage__Provider"] = "redis",
            ["ConnectionStrings__redis"] = redis.ConnectionString,
        };

        public override Task StartAsync() => redis.StartAsync();

        public override Task StopAsync() => redis.StopAsync(RedisStopMode.Shutdown);

        public override string Describe(int maxLines = 40) => redis.Describe(maxLines);

        public override ValueTask DisposeAsync() => redis.DisposeAsync();
    }

    private sealed class AzuriteStore(AzuriteServer azurite) : ClusterStore
    {
        public override StorageBackend Backend => StorageBackend.Azure;

        public override bool IsRunning => azurite.IsRunning;

        public override IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
        {
            ["Storage__Provider"] = "azure",
            ["ConnectionStrings__azure-storage"] = azurite.ConnectionString,

            // Nothing inherited may point the processes at a Redis.
            ["ConnectionStrings__redis"] = null,
        };

        public override Task StartAsync() => azurite.StartAsync();

        public override Task StopAsync() => azurite.StopAsync(AzuriteStopMode.Graceful);

        public override string Describe(int maxLines = 40) => azurite.Describe(maxLines);

        public override ValueTask DisposeAsync() => azurite.DisposeAsync();
    }
}
