using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;

namespace LiveGrains.Grains.Streams;

[GenerateSerializer, Alias("LiveGrains.StreamState")]
public sealed class StreamState
{
    [Id(0)]
    public bool Exists { get; set; }

    [Id(1)]
    public string Tenant { get; set; } = string.Empty;

    [Id(2)]
    public string RoomId { get; set; } = string.Empty;

    [Id(3)]
    public bool Enabled { get; set; }

    /// <summary>SHA-256 of "stream_id:key" (<see cref="StreamKeys.Hash"/>); the key itself is never stored.</summary>
    [Id(4)]
    public byte[]? KeyHash { get; set; }

    [Id(5)]
    public int KeyVersion { get; set; }

    [Id(6)]
    public StreamStatus Status { get; set; }

    [Id(7)]
    public DateTimeOffset? ConnectedAt { get; set; }

    [Id(8)]
    public DateTimeOffset? DisconnectedAt { get; set; }

    /// <summary>The live this stream feeds (connected or reconnecting), null when idle.</summary>
    [Id(9)]
    public string? LiveId { get; set; }

    /// <summary>The stream's own window; null uses the room's.</summary>
    [Id(10)]
    public int? ReconnectWindowSeconds { get; set; }

    [Id(11)]
    public DateTimeOffset? ReconnectDeadline { get; set; }

    /// <summary>"server:clientid" of the publisher that holds the stream; an update from any other is refused.</summary>
    [Id(12)]
    public string? PublisherId { get; set; }

    [Id(13)]
    public RecordingMode Recording { get; set; }

    [Id(14)]
    public List<RecordingSessionDto> RecordingSessions { get; set; } = [];

    [Id(15)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(16)]
    public DateTimeOffset UpdatedAt { get; set; }

    [Id(17)]
    public EventOutbox Outbox { get; set; } = new();

    [Id(18)]
    public string? Name { get; set; }

    [Id(19)]
    public StreamRole Role { get; set; }

    /// <summary>The live a publish starts or joins (PATCH live_id); null: the room's rules pick one.</summary>
    [Id(20)]
    public string? BoundLiveId { get; set; }

    /// <summary>Deleted: gone for API calls and refused for callbacks; the id is never reused.</summary>
    [Id(21)]
    public bool Deleted { get; set; }

    /// <summary>The media server's handle of the publisher that holds the stream (what a drop names).</summary>
    [Id(22)]
    public PublisherRef? Publisher { get; set; }

    /// <summary>
    /// Publishers to drop at their media server, recorded in the write that decided it (a reminder guards them); the
    /// drop pump removes each once the server confirmed.
    /// </summary>
    [Id(23)]
    public List<PublisherRef> PendingDrops { get; set; } = [];

    /// <summary>The live the last publish fed (kept when idle: a recording finishes after its publish ended).</summary>
    [Id(24)]
    public string? LastLiveId { get; set; }

    public bool RecordingActive => RecordingSessions.Count > 0 && RecordingSessions[^1].StoppedAt is null;
}
