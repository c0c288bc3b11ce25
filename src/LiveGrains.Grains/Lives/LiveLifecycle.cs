using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Lives;

/// <summary>The lifecycle part of a live: status, every timestamp, who did it and on-air time.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveLifecycle")]
public sealed record LiveLifecycle(
    [property: Id(0)] LiveStatus Status,
    [property: Id(1)] EndReason? EndReason,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset? ScheduledStartTime,
    [property: Id(4)] DateTimeOffset? ReadyAt,
    [property: Id(5)] DateTimeOffset? StartedAt,
    [property: Id(6)] DateTimeOffset? PausedAt,
    [property: Id(7)] DateTimeOffset? EndedAt,
    [property: Id(8)] string? StartedBy,
    [property: Id(9)] string? EndedBy,
    [property: Id(10)] TimeSpan OnAirBeforeLastResume,
    [property: Id(11)] DateTimeOffset? OnAirSince,
    [property: Id(12)] string? ReadyBy = null,
    [property: Id(13)] string? PausedBy = null,
    [property: Id(14)] string? ResumedBy = null)
{
    public static LiveLifecycle Scheduled(DateTimeOffset now, DateTimeOffset? scheduledStartTime) =>
        new(LiveStatus.Scheduled, null, now, scheduledStartTime, null, null, null, null, null, null, TimeSpan.Zero, null);

    /// <summary>True in live or paused: the state that makes a live its room's active live.</summary>
    public bool IsActive => Status is LiveStatus.Live or LiveStatus.Paused;

    /// <summary>Time on air up to <paramref name="now"/>, paused time excluded.</summary>
    public TimeSpan OnAir(DateTimeOffset now) =>
        OnAirBeforeLastResume + (Status == LiveStatus.Live && OnAirSince is { } since ? NonNegative(now - since) : TimeSpan.Zero);

    internal static TimeSpan NonNegative(TimeSpan span) => span < TimeSpan.Zero ? TimeSpan.Zero : span;
}

/// <summary>The outcome of applying a command: the next lifecycle and the webhook event type, or an error.</summary>
public readonly record struct LiveTransition(LiveLifecycle? Next, string? EventType, DomainError? Error)
{
    public bool IsSuccess => Error is null;
}
