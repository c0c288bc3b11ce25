using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>A tenant's webhook endpoints (URL, event filter, secret, enabled). Keyed by tenant id.</summary>
[Alias("LiveGrains.IWebhookRegistryGrain")]
public interface IWebhookRegistryGrain : IGrainWithStringKey
{
    /// <summary>Registers an endpoint with a new signing secret; the only answer besides rotation that shows the secret.</summary>
    [Alias("Create")] Task<Result<WebhookDto>> CreateAsync(CreateWebhookCommand command);

    [Alias("Get"), ReadOnly] Task<Result<WebhookDto>> GetAsync(string webhookId);

    [Alias("List"), ReadOnly] Task<IReadOnlyList<WebhookDto>> ListAsync();

    /// <summary>Removes an endpoint; its queued deliveries are discarded (the one explicit way events are dropped).</summary>
    [Alias("Delete")] Task<Result<bool>> DeleteAsync(string webhookId);

    /// <summary>Disabled endpoints are not sent anything and are not subscribed to events recorded meanwhile.</summary>
    [Alias("SetEnabled")] Task<Result<WebhookDto>> SetEnabledAsync(string webhookId, bool enabled);

    [Alias("RotateSecret")] Task<Result<WebhookDto>> RotateSecretAsync(string webhookId);

    /// <summary>Every endpoint with its secret, for delivery. Interleaves: it is on every event's path.</summary>
    [Alias("GetTargets"), ReadOnly, AlwaysInterleave] Task<IReadOnlyList<WebhookTarget>> GetTargetsAsync();

    [Alias("SetFailing")] Task SetFailingAsync(string webhookId, bool failing);
}

/// <summary>
/// The undelivered events of one resource (room, live, stream...) for every endpoint of its tenant, delivered
/// in sequence order per endpoint. Keyed by <c>tenant/resourceType:resourceId</c>.
/// </summary>
[Alias("LiveGrains.IResourceEventLogGrain")]
public interface IResourceEventLogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Durably queues the events for the endpoints of <paramref name="targets"/> (the tenant's registry as the
    /// caller read it while handling the request that caused them) that want them; idempotent by sequence.
    /// </summary>
    [Alias("Append")] Task AppendAsync(IReadOnlyList<ResourceEvent> events, IReadOnlyList<WebhookTarget> targets);

    /// <summary>Retries an endpoint's queue now, resetting its backoff.</summary>
    [Alias("RetryNow")] Task RetryNowAsync(string webhookId);
}

/// <summary>The delivery log of one endpoint: the latest outcome per event. Keyed by <c>tenant/webhookId</c>.</summary>
[Alias("LiveGrains.IWebhookDeliveryLogGrain")]
public interface IWebhookDeliveryLogGrain : IGrainWithStringKey
{
    [Alias("Record"), OneWay] Task RecordAsync(IReadOnlyList<WebhookDeliveryRecord> records);

    [Alias("List"), ReadOnly] Task<Result<WebhookDeliveryPage>> ListAsync(int limit, string? cursor);

    /// <summary>Sends a <c>webhook.test</c> event now, outside any resource's order.</summary>
    /// <remarks>
    /// Waits for the receiver (one HTTP attempt of up to <c>Webhooks:AttemptTimeoutSeconds</c>, 10 s by default), as
    /// long as the cluster's default call timeout (<c>Orleans:ResponseTimeoutSeconds</c>, 10 s), so it has its own.
    /// </remarks>
    [Alias("Test"), ResponseTimeout("00:00:30")] Task<Result<WebhookDeliveryDto>> TestAsync();

    /// <summary>Delivers an event again: now, out of band, if it was delivered; else retries its queue now.</summary>
    /// <remarks>An out-of-band delivery waits for the receiver, as <see cref="TestAsync"/> does.</remarks>
    [Alias("Redeliver"), ResponseTimeout("00:00:30")] Task<Result<WebhookDeliveryDto>> RedeliverAsync(string eventId);

    [Alias("Clear")] Task ClearAsync();
}

/// <summary>A delivery-log entry with the event itself, so the event can be redelivered.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.WebhookDeliveryRecord")]
public sealed record WebhookDeliveryRecord(
    [property: Id(0)] ResourceEvent Event,
    [property: Id(1)] WebhookDeliveryDto Delivery);
