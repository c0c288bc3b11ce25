using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LiveGrains.ServiceDefaults;

/// <summary>Healthy when the configured Redis answers PING, through the process's one lazy connection.</summary>
public sealed class RedisHealthCheck(ILazyRedisConnection redis) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var db = await redis.DatabaseAsync().WaitAsync(Timeout, cancellationToken);
            var latency = await db.PingAsync().WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("Redis did not answer PING.", ex);
        }
    }
}
