using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using LiveGrains.Abstractions;

namespace LiveGrains.ServiceDefaults.Idempotency;

/// <summary>
/// Idempotency records as blobs (<c>idempotency/{serviceId}/{tenant}/{keyHash}</c> in the state container). Each change
/// is a conditional write (<c>If-None-Match: *</c> to create, <c>If-Match</c> the read ETag to change or delete), so of
/// two gateways racing on one key exactly one claims it; the loser reads again and sees the claim. Blob storage has no
/// per-blob expiry: a record older than 24 h is treated as absent and overwritten, and a lifecycle rule on the prefix
/// <c>idempotency/</c> (delete 1 day after last modification) removes the rest (docs/operations.md).
/// </summary>
public sealed class AzureBlobIdempotencyStore(BlobContainerClient container, string serviceId, TimeProvider time) : IIdempotencyStore
{
    private const int MaxAttempts = 8;
    private Task? _created;

    public async Task<IdempotencyDecision> BeginAsync(string tenant, string keyHash, string requestFingerprint)
    {
        var blob = await BlobAsync(tenant, keyHash);
        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow();
            var (record, etag) = await ReadAsync(blob);
            if (record is not null && now - DateTimeOffset.FromUnixTimeMilliseconds(record.First) >= IdempotencyRecords.Retention)
            {
                record = null;
            }

            if (record is not null)
            {
                if (!string.Equals(record.Fp, requestFingerprint, StringComparison.Ordinal))
                {
                    return new IdempotencyDecision(IdempotencyOutcome.Mismatch, null);
                }

                if (record.Status is { } status)
                {
                    return new IdempotencyDecision(IdempotencyOutcome.Replay, new StoredResponse(status, record.ContentType, record.Location, record.Body ?? []));
                }

                if (now.ToUnixTimeMilliseconds() < record.Lease)
                {
                    return new IdempotencyDecision(IdempotencyOutcome.InProgress, null);
                }

                record = record with { Lease = (now + IdempotencyRecords.Lease).ToUnixTimeMilliseconds() };
            }
            else
            {
                record = new Record(requestFingerprint, now.ToUnixTimeMilliseconds(), (now + IdempotencyRecords.Lease).ToUnixTimeMilliseconds(), null, null, null, null);
            }

            if (await TryWriteAsync(blob, record, etag))
            {
                return new IdempotencyDecision(IdempotencyOutcome.Proceed, null);
            }

            if (attempt + 1 >= MaxAttempts)
            {
                throw new RequestFailedException(412, "The idempotency record kept changing; retry the request.");
            }
        }
    }

    public async Task CompleteAsync(string tenant, string keyHash, string requestFingerprint, StoredResponse response)
    {
        var blob = await BlobAsync(tenant, keyHash);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var (record, etag) = await ReadAsync(blob);
            if (record is null || !string.Equals(record.Fp, requestFingerprint, StringComparison.Ordinal))
            {
                return;
            }

            var answered = record with { Status = response.StatusCode, ContentType = response.ContentType, Location = response.Location, Body = response.Body };
            if (await TryWriteAsync(blob, answered, etag))
            {
                return;
            }
        }

        throw new RequestFailedException(412, "The idempotency record kept changing; its answer was not stored.");
    }

    public async Task AbandonAsync(string tenant, string keyHash, string requestFingerprint)
    {
        var blob = await BlobAsync(tenant, keyHash);
        var (record, etag) = await ReadAsync(blob);
        if (record is null || record.Status is not null || !string.Equals(record.Fp, requestFingerprint, StringComparison.Ordinal))
        {
            return;
        }

        try
        {
            await blob.DeleteAsync(conditions: new BlobRequestConditions { IfMatch = etag });
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Changed meanwhile (answered, or taken over after the lease): not this attempt's to free any more.
        }
    }

    private async Task<BlobClient> BlobAsync(string tenant, string keyHash)
    {
        // Created once; a failed attempt (storage down at the first keyed request) is not remembered, the next one tries again.
        var created = _created;
        if (created is null || created.IsFaulted || created.IsCanceled)
        {
            created = _created = container.CreateIfNotExistsAsync();
        }

        await created;
        return container.GetBlobClient($"idempotency/{serviceId}/{tenant}/{keyHash}");
    }

    private static async Task<(Record? Record, ETag? ETag)> ReadAsync(BlobClient blob)
    {
        try
        {
            var content = await blob.DownloadContentAsync();
            return (content.Value.Content.ToObjectFromJson<Record>(JsonOptions), content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return (null, null);
        }
    }

    /// <summary>Writes only over the version read (or only if there is none); false when another writer came first.</summary>
    private static async Task<bool> TryWriteAsync(BlobClient blob, Record record, ETag? etag)
    {
        try
        {
            var conditions = etag is { } e ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All };
            await blob.UploadAsync(BinaryData.FromObjectAsJson(record, JsonOptions), new BlobUploadOptions { Conditions = conditions });
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private sealed record Record(string Fp, long First, long Lease, int? Status, string? ContentType, string? Location, byte[]? Body);
}
