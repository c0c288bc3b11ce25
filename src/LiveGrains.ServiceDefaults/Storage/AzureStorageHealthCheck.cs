using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LiveGrains.ServiceDefaults.Storage;

/// <summary>
/// Healthy when the configured Azure Storage account answers on both services LiveGrains uses: the Table service
/// (membership, reminders) lists one table and the Blob service says whether the grain-state container exists.
/// </summary>
public sealed class AzureStorageHealthCheck(StorageOptions storage) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
    private readonly TableServiceClient _tables = new(storage.AzureConnectionString);
    private readonly BlobContainerClient _container = new BlobServiceClient(storage.AzureConnectionString).GetBlobContainerClient(storage.AzureContainerName);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var started = TimeProvider.System.GetTimestamp();
            await foreach (var _ in _tables.QueryAsync(maxPerPage: 1, cancellationToken: timeout.Token).AsPages(pageSizeHint: 1).WithCancellation(timeout.Token))
            {
                break;
            }

            await _container.ExistsAsync(timeout.Token);
            return HealthCheckResult.Healthy($"Table and Blob services answered in {TimeProvider.System.GetElapsedTime(started).TotalMilliseconds:F1} ms");
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The exception names the endpoint, never the account key.
            return HealthCheckResult.Unhealthy("Azure Storage did not answer.", ex);
        }
    }
}
