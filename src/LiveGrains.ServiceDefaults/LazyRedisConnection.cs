using StackExchange.Redis;

namespace LiveGrains.ServiceDefaults;

/// <summary>
/// The process's one Redis connection outside Orleans' own (idempotency records, the health check), opened on first use.
/// </summary>
public interface ILazyRedisConnection
{
    Task<IDatabase> DatabaseAsync();
}

/// <summary>
/// Connects lazily and never fails the start: with <c>AbortOnConnectFail=false</c> the multiplexer keeps reconnecting
/// while Redis is down, and each command meanwhile fails (a 503 the client retries with its key).
/// </summary>
public sealed class LazyRedisConnection(ConfigurationOptions options) : ILazyRedisConnection, IAsyncDisposable
{
    private readonly Lock _lock = new();
    private Task<ConnectionMultiplexer>? _connection;

    public async Task<IDatabase> DatabaseAsync()
    {
        Task<ConnectionMultiplexer> connection;
        lock (_lock)
        {
            // A connect that failed outright (not merely "Redis down", which the multiplexer rides out) is not
            // remembered: the next request connects again.
            if (_connection is null || _connection.IsFaulted || _connection.IsCanceled)
            {
                _connection = ConnectionMultiplexer.ConnectAsync(options);
            }

            connection = _connection;
        }

        return (await connection).GetDatabase();
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { IsCompletedSuccessfully: true } connection)
        {
            await (await connection).DisposeAsync();
        }
    }
}
