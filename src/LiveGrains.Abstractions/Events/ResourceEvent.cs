namespace LiveGrains.Abstractions;

/// <summary>
/// A state transition of a room, live, stream or recording, as webhooks deliver it. Recorded in the owning
/// grain's state in the same write as the transition (an outbox), with a per-resource gap-free sequence.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.ResourceEvent")]
public sealed record ResourceEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string Type,
    [property: Id(2)] string Tenant,
    [property: Id(3)] string ResourceType,
    [property: Id(4)] string ResourceId,
    [property: Id(5)] long Sequence,
    [property: Id(6)] DateTimeOffset Timestamp,
    [property: Id(7)] string DataJson);

public static class EventTypes
{
    public const string RoomCreated = "room.created";
    public const string LiveScheduled = "live.scheduled";
    public const string LiveReady = "live.ready";
    public const string LiveStarted = "live.started";
    public const string LivePaused = "live.paused";
    public const string LiveResumed = "live.resumed";
    public const string LiveEnded = "live.ended";
    public const string StreamConnected = "stream.connected";
    public const string StreamDisconnected = "stream.disconnected";
    public const string StreamIdle = "stream.idle";
    public const string StreamEnabled = "stream.enabled";
    public const string StreamDisabled = "stream.disabled";
    public const string StreamKeyRotated = "stream.key_rotated";
    public const string RecordingStarted = "recording.started";
    public const string RecordingStopped = "recording.stopped";
    public const string VideoCreated = "video.created";
    public const string VideoReady = "video.ready";
    public const string VideoFailed = "video.failed";

    /// <summary>The host entered or left a live (<c>POST /v1/lives/{id}/host/enter|exit</c>); data is the live.</summary>
    public const string LiveHostEntered = "live.host_entered";
    public const string LiveHostExited = "live.host_exited";

    /// <summary>A restream destination's status changed (api.md "Destinations"); data is the destination, never its key.</summary>
    public const string DestinationOnline = "destination.online";
    public const string DestinationOffline = "destination.offline";
    public const string DestinationError = "destination.error";

    public static readonly IReadOnlyList<string> All =
    [
        RoomCreated, LiveScheduled, LiveReady, LiveStarted, LivePaused, LiveResumed, LiveEnded,
        StreamConnected, StreamDisconnected, StreamIdle, StreamEnabled, StreamDisabled, StreamKeyRotated,
        RecordingStarted, RecordingStopped, VideoCreated, VideoReady, VideoFailed, LiveHostEntered, LiveHostExited,
        DestinationOnline, DestinationOffline, DestinationError,
    ];
}
