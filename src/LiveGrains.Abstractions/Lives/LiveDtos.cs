namespace LiveGrains.Abstractions;

public enum LiveStatus
{
    Scheduled = 0,
    Ready = 1,
    Live = 2,
    Paused = 3,
    Ended = 4,
}

public enum EndReason
{
    /// <summary>Someone asked for the end.</summary>
    Ended = 0,

    /// <summary>Another live took the room.</summary>
    Superseded = 1,

    /// <summary>The ingest was gone longer than the room's reconnect window.</summary>
    ReconnectTimeout = 2,

    /// <summary>Ended before it ever started.</summary>
    Cancelled = 3,
}

public enum LiveCommandKind
{
    Ready = 0,
    Start = 1,
    Pause = 2,
    Resume = 3,
    End = 4,
}

/// <summary>
/// A lifecycle command. <see cref="Reason"/> only matters for <see cref="LiveCommandKind.End"/>. <see cref="RequestId"/>
/// (a digest of the client's Idempotency-Key) lets the room answer a retry of a transition it already applied.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveCommand")]
public sealed record LiveCommand(
    [property: Id(0)] LiveCommandKind Kind,
    [property: Id(1)] string? By = null,
    [property: Id(2)] EndReason Reason = EndReason.Ended,
    [property: Id(3)] string? RequestId = null);

[GenerateSerializer, Immutable, Alias("LiveGrains.Stats")]
public sealed record StatsDto(
    [property: Id(0)] long ViewerCount,
    [property: Id(1)] long PeakViewerCount,
    [property: Id(2)] DateTimeOffset? PeakAt,
    [property: Id(3)] long UniqueViewerCount,
    [property: Id(4)] long ViewCount,
    [property: Id(5)] long LikeCount,
    [property: Id(6)] long ChatMessageCount,
    [property: Id(7)] long DurationSeconds)
{
    /// <summary>No activity yet.</summary>
    public static readonly StatsDto Empty = new(0, 0, null, 0, 0, 0, 0, 0);
}

[GenerateSerializer, Immutable, Alias("LiveGrains.Live")]
public sealed record LiveDto(
    [property: Id(0)] string LiveId,
    [property: Id(1)] string RoomId,
    [property: Id(2)] string? Title,
    [property: Id(3)] LiveStatus Status,
    [property: Id(4)] EndReason? EndReason,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] DateTimeOffset? ScheduledStartTime,
    [property: Id(7)] DateTimeOffset? ReadyAt,
    [property: Id(8)] DateTimeOffset? StartedAt,
    [property: Id(9)] DateTimeOffset? PausedAt,
    [property: Id(10)] DateTimeOffset? EndedAt,
    [property: Id(11)] long DurationSeconds,
    [property: Id(12)] string? StartedBy,
    [property: Id(13)] string? EndedBy,
    [property: Id(14)] StatsDto Stats,
    [property: Id(15)] string? Description = null,
    [property: Id(16), System.Text.Json.Serialization.JsonConverter(typeof(VerbatimKeysJsonConverter))] Dictionary<string, string>? Metadata = null,
    [property: Id(17)] Visibility Visibility = Visibility.Public,
    [property: Id(18)] string? CreatedBy = null,
    [property: Id(19)] DateTimeOffset? UpdatedAt = null,
    [property: Id(20)] string? ReadyBy = null,
    [property: Id(21)] string? PausedBy = null,
    [property: Id(22)] string? ResumedBy = null,
    // Presets and limits (issue 13); ids from 40 so that fields other branches add never collide.
    [property: Id(40)] string? PresetId = null,
    [property: Id(41)] bool? ChatEnabledOverride = null,
    [property: Id(42)] long? MaxJoinLimitOverride = null,
    [property: Id(43)] bool? RecordingEnabled = null,
    [property: Id(44)] bool EffectiveChatEnabled = true,
    [property: Id(45)] long? EffectiveMaxJoinLimit = null,
    [property: Id(46)] bool EffectiveRecordingEnabled = false,
    // Host presence, mode and links (issue 13).
    [property: Id(47)] LiveHostDto? Host = null,
    [property: Id(48)] LiveMode Mode = LiveMode.Rtmp,
    [property: Id(49)] string? WatchUrl = null,
    [property: Id(50)] PlaybackDto? Playback = null,
    [property: Id(51)] string? IngestUrl = null,
    // Ingest (issue 12): the streams feeding the live.
    [property: Id(60)] IReadOnlyList<string>? StreamIds = null);

/// <summary>How the host publishes (the LiveKit-based platform's session mode); decides the live's <c>ingest_url</c>.</summary>
public enum LiveMode
{
    Rtmp = 0,
    Whip = 1,
    Webcam = 2,
}

/// <summary>Whether the host is in the live (Sendbird's host state); null before the first enter.</summary>
public enum HostState
{
    Entered = 0,
    Exited = 1,
}

/// <summary>
/// The host's presence in a live: <see cref="State"/> from <c>host/enter|exit</c>, and <see cref="IsStreaming"/> while
/// one of the live's ingest streams is connected.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveHost")]
public sealed record LiveHostDto(
    [property: Id(0)] HostState? State,
    [property: Id(1)] DateTimeOffset? EnteredAt,
    [property: Id(2)] DateTimeOffset? ExitedAt,
    [property: Id(3)] bool IsStreaming,
    [property: Id(4)] string? By = null);

/// <summary>Where viewers play the live; null without ingest.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.Playback")]
public sealed record PlaybackDto([property: Id(0)] string? HlsUrl);
