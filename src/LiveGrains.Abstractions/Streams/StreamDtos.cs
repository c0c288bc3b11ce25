namespace LiveGrains.Abstractions;

public enum StreamStatus
{
    /// <summary>No publisher, no reconnect window open.</summary>
    Idle = 0,

    /// <summary>A publisher is on (its live is on air).</summary>
    Connected = 1,

    /// <summary>The publisher went away; the live is paused until it comes back or the window passes.</summary>
    Reconnecting = 2,
}

public enum RecordingMode
{
    /// <summary>Recording only when asked (recording/start).</summary>
    Off = 0,

    /// <summary>A recording session starts with every connect and stops when the stream goes idle (Gcore auto_record).</summary>
    Auto = 1,
}

/// <summary>Gcore's primary and backup ingest: a live fed by both pauses only when neither publishes.</summary>
public enum StreamRole
{
    Primary = 0,
    Backup = 1,
}

public enum RecordingTrigger
{
    Manual = 0,
    Auto = 1,
}

[GenerateSerializer, Immutable, Alias("LiveGrains.CreateStreamCommand")]
public sealed record CreateStreamCommand(
    [property: Id(0)] string RoomId,
    [property: Id(1)] int? ReconnectWindowSeconds,
    [property: Id(2)] RecordingMode Recording,
    [property: Id(3)] string? LiveId = null,
    [property: Id(4)] string? Name = null,
    [property: Id(5)] StreamRole Role = StreamRole.Primary,
    [property: Id(6)] bool Enabled = true);

/// <summary>
/// PATCH of a stream: a null field is left as it is. <see cref="LiveId"/> binds the stream to a live of its room;
/// an empty string unbinds it.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.UpdateStreamCommand")]
public sealed record UpdateStreamCommand(
    [property: Id(0)] string? Name = null,
    [property: Id(1)] int? ReconnectWindowSeconds = null,
    [property: Id(2)] RecordingMode? Recording = null,
    [property: Id(3)] string? LiveId = null,
    [property: Id(4)] bool? Enabled = null);

/// <summary>One recording of the stream, from start to stop (stopped_at null while it runs).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.RecordingSession")]
public sealed record RecordingSessionDto(
    [property: Id(0)] string RecordingId,
    [property: Id(1)] DateTimeOffset StartedAt,
    [property: Id(2)] DateTimeOffset? StoppedAt,
    [property: Id(3)] RecordingTrigger Trigger,
    [property: Id(4)] string? LiveId);

/// <summary>
/// A stream as the grain knows it. Never carries the key: the key exists in clear only in
/// <see cref="StreamWithKey"/>, the answer of create and rotate-key.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.Stream")]
public sealed record StreamDto(
    [property: Id(0)] string StreamId,
    [property: Id(1)] string RoomId,
    [property: Id(2)] bool Enabled,
    [property: Id(3)] StreamStatus Status,
    [property: Id(4)] RecordingMode Recording,
    [property: Id(5)] bool RecordingActive,
    [property: Id(6)] DateTimeOffset? ConnectedAt,
    [property: Id(7)] DateTimeOffset? DisconnectedAt,
    [property: Id(8)] string? LiveId,
    [property: Id(9)] int? ReconnectWindowSeconds,
    [property: Id(10)] DateTimeOffset? ReconnectDeadline,
    [property: Id(11)] int KeyVersion,
    [property: Id(12)] DateTimeOffset CreatedAt,
    [property: Id(13)] DateTimeOffset UpdatedAt,
    [property: Id(14)] IReadOnlyList<RecordingSessionDto> RecordingSessions,
    [property: Id(15)] string? Name = null,
    [property: Id(16)] StreamRole Role = StreamRole.Primary,
    [property: Id(17)] string? BoundLiveId = null);

[GenerateSerializer, Immutable, Alias("LiveGrains.StreamWithKey")]
public sealed record StreamWithKey(
    [property: Id(0)] StreamDto Stream,
    [property: Id(1)] string StreamKey);

/// <summary>Which media server sent a callback; only for logs and publisher identity.</summary>
public enum MediaServerKind
{
    NginxRtmp = 0,
    Srs = 1,
    MediaMtx = 2,
}

/// <summary>A media-server callback about the publisher of <see cref="StreamKey"/>, normalized across servers.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.IngestCallback")]
public sealed record IngestCallback(
    [property: Id(0)] string StreamKey,
    [property: Id(1)] MediaServerKind Server,
    [property: Id(2)] string? ClientId,
    [property: Id(3)] string? RemoteAddress,
    [property: Id(4)] string? App = null,
    [property: Id(5)] string? Protocol = null);

/// <summary>
/// Who to drop at the media server: its kind and its own id of the connection (nginx-rtmp <c>clientid</c> with the
/// application, SRS <c>client_id</c>, MediaMTX connection id with its protocol). Never the stream key.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.PublisherRef")]
public sealed record PublisherRef(
    [property: Id(0)] MediaServerKind Server,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string? App,
    [property: Id(3)] string? Protocol);

/// <summary>A stream asks its room to put it on a live (ingest publish).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.IngestPublishCommand")]
public sealed record IngestPublishCommand(
    [property: Id(0)] string StreamId,
    [property: Id(1)] string? BoundLiveId,
    [property: Id(2)] string By);

public enum IngestStopKind
{
    /// <summary>The publisher went away; the stream waits for it (reconnect window). The live pauses if no feed publishes.</summary>
    Disconnected = 0,

    /// <summary>The stream's reconnect window passed: the live ends (reconnect_timeout) if no other stream feeds it.</summary>
    WindowPassed = 1,

    /// <summary>The stream was disabled or deleted: the live ends (ended) if no other stream feeds it.</summary>
    Removed = 2,
}

/// <summary>A stream tells its room it stopped feeding a live.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.IngestStopCommand")]
public sealed record IngestStopCommand(
    [property: Id(0)] string StreamId,
    [property: Id(1)] string LiveId,
    [property: Id(2)] IngestStopKind Kind,
    [property: Id(3)] string By);

public enum IngestOutcome
{
    Allowed = 0,
    UnknownStream = 1,
    BadKey = 2,
    Disabled = 3,
    Busy = 4,
    RoomUnavailable = 5,
    NotPublishing = 6,
    Ignored = 7,
}

[GenerateSerializer, Immutable, Alias("LiveGrains.IngestDecision")]
public sealed record IngestDecision(
    [property: Id(0)] IngestOutcome Outcome,
    [property: Id(1)] string? LiveId = null)
{
    /// <summary>Allowed and Ignored (a callback about nothing we track) are both answered with success.</summary>
    public bool Allowed => Outcome is IngestOutcome.Allowed or IngestOutcome.Ignored;
}

/// <summary>What the room answered to a go-live asked by an ingest publish.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.IngestLiveResult")]
public sealed record IngestLiveResult(
    [property: Id(0)] LiveDto Live,
    [property: Id(1)] bool Created);

/// <summary>Webhook data of recording.started/stopped: the session and the stream it belongs to.</summary>
public sealed record RecordingEventData(
    string StreamId,
    string RoomId,
    string? LiveId,
    RecordingSessionDto Recording);
