using LiveGrains.Abstractions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LiveGrains.ServiceDefaults;

/// <summary>Healthy when a grain call round-trips through the cluster (and so through its storage's membership).</summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await grains.Get<IRoomGrain>(TenantKey.Compose("_health", "_probe")).GetAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("The Orleans cluster did not answer.", ex);
        }
    }
}
