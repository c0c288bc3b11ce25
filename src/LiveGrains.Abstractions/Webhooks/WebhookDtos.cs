namespace LiveGrains.Abstractions;

/// <summary>
/// The body shape an endpoint receives: LiveGrains' own <c>{type, timestamp, data}</c>, or Gcore Streaming's
/// <c>{type, message}</c> (docs/compat.md, "Gcore webhooks"). Signing is the same for both.
/// </summary>
public enum WebhookFormat
{
    Standard = 0,
    Gcore = 1,
}

/// <summary>A webhook endpoint as the API shows it. <see cref="Secret"/> is set only by create and rotate-secret.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.WebhookDto")]
public sealed record WebhookDto(
    [property: Id(0)] string WebhookId,
    [property: Id(1)] string Url,
    [property: Id(2)] IReadOnlyList<string>? Events,
    [property: Id(3)] bool Enabled,
    [property: Id(4)] string? Secret,
    [property: Id(5)] string? Description,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] bool Failing,
    [property: Id(90)] WebhookFormat Format = WebhookFormat.Standard);

[GenerateSerializer, Immutable, Alias("LiveGrains.CreateWebhookCommand")]
public sealed record CreateWebhookCommand(
    [property: Id(0)] string Url,
    [property: Id(1)] IReadOnlyList<string>? Events,
    [property: Id(2)] string? Description,
    [property: Id(90)] WebhookFormat Format = WebhookFormat.Standard);

/// <summary>What delivery needs to know about an endpoint (internal: carries the secret).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.WebhookTarget")]
public sealed record WebhookTarget(
    [property: Id(0)] string WebhookId,
    [property: Id(1)] string Url,
    [property: Id(2)] string Secret,
    [property: Id(3)] IReadOnlyList<string>? Events,
    [property: Id(4)] bool Enabled,
    [property: Id(90)] WebhookFormat Format = WebhookFormat.Standard)
{
    public bool Wants(string type) => Enabled && (Events is null || Events.Contains(type, StringComparer.Ordinal));
}

public enum DeliveryStatus
{
    /// <summary>Queued behind an earlier event of the same resource, or not yet attempted.</summary>
    Pending = 0,

    /// <summary>Acknowledged with a 2xx.</summary>
    Delivered = 1,

    /// <summary>The last attempt failed; retried with backoff.</summary>
    Retrying = 2,

    /// <summary>Retried past the retry horizon; still retried, slowly, and the endpoint is marked failing.</summary>
    Failing = 3,
}

/// <summary>One event's delivery to one endpoint, as the delivery log shows it.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.WebhookDeliveryDto")]
public sealed record WebhookDeliveryDto(
    [property: Id(0)] string EventId,
    [property: Id(1)] string Type,
    [property: Id(2)] string ResourceType,
    [property: Id(3)] string ResourceId,
    [property: Id(4)] long Sequence,
    [property: Id(5)] DeliveryStatus Status,
    [property: Id(6)] int Attempts,
    [property: Id(7)] int? LastStatusCode,
    [property: Id(8)] string? LastError,
    [property: Id(9)] string? LastResponseBody,
    [property: Id(10)] DateTimeOffset? NextAttemptAt,
    [property: Id(11)] DateTimeOffset? DeliveredAt,
    [property: Id(12)] DateTimeOffset UpdatedAt);

[GenerateSerializer, Immutable, Alias("LiveGrains.WebhookDeliveryPage")]
public sealed record WebhookDeliveryPage(
    [property: Id(0)] IReadOnlyList<WebhookDeliveryDto> Items,
    [property: Id(1)] string? NextCursor);
