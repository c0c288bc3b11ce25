using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Lives;

/// <summary>
/// The whole lifecycle of a live in one pure function:
/// scheduled -> ready -> live &lt;-> paused -> ended; scheduled|ready -> live (start); any non-ended -> ended.
/// Ending a live that never started records <see cref="EndReason.Cancelled"/>.
/// </summary>
public static class LiveStateMachine
{
    public static LiveTransition Apply(LiveLifecycle current, LiveCommand command, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(command);

        return (current.Status, command.Kind) switch
        {
            (LiveStatus.Scheduled, LiveCommandKind.Ready) =>
                Ok(current with { Status = LiveStatus.Ready, ReadyAt = now, ReadyBy = command.By }, EventTypes.LiveReady),

            (LiveStatus.Scheduled or LiveStatus.Ready, LiveCommandKind.Start) =>
                Ok(current with { Status = LiveStatus.Live, StartedAt = now, StartedBy = command.By, OnAirSince = now }, EventTypes.LiveStarted),

            (LiveStatus.Live, LiveCommandKind.Pause) =>
                Ok(current with
                {
                    Status = LiveStatus.Paused,
                    PausedAt = now,
                    PausedBy = command.By,
                    OnAirBeforeLastResume = current.OnAir(now),
                    OnAirSince = null,
                }, EventTypes.LivePaused),

            (LiveStatus.Paused, LiveCommandKind.Resume) =>
                Ok(current with { Status = LiveStatus.Live, OnAirSince = now, ResumedBy = command.By }, EventTypes.LiveResumed),

            (not LiveStatus.Ended, LiveCommandKind.End) =>
                Ok(current with
                {
                    Status = LiveStatus.Ended,
                    EndReason = current.StartedAt is null ? EndReason.Cancelled : command.Reason,
                    EndedAt = now,
                    EndedBy = command.By,
                    OnAirBeforeLastResume = current.OnAir(now),
                    OnAirSince = null,
                }, EventTypes.LiveEnded),

            _ => Refuse(current.Status, command.Kind),
        };
    }

    /// <summary>True when <paramref name="kind"/> is allowed from <paramref name="status"/>.</summary>
    public static bool IsAllowed(LiveStatus status, LiveCommandKind kind) =>
        Apply(LiveLifecycle.Scheduled(DateTimeOffset.UnixEpoch, null) with { Status = status }, new LiveCommand(kind), DateTimeOffset.UnixEpoch).IsSuccess;

    /// <summary>The error for <paramref name="kind"/> from <paramref name="status"/>, or null when it is allowed.</summary>
    public static DomainError? Refusal(LiveStatus status, LiveCommandKind kind) =>
        IsAllowed(status, kind) ? null : Refuse(status, kind).Error;

    private static LiveTransition Ok(LiveLifecycle next, string eventType) => new(next, eventType, null);

    private static LiveTransition Refuse(LiveStatus status, LiveCommandKind kind) =>
        new(null, null, new DomainError(
            DomainErrorCode.InvalidTransition,
            $"Cannot {Verb(kind)} a live that is {status.ToString().ToLowerInvariant()}."));

    private static string Verb(LiveCommandKind kind) => kind.ToString().ToLowerInvariant();
}
