using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;

namespace LiveGrains.Grains.Rooms;

[GenerateSerializer, Alias("LiveGrains.RoomState")]
public sealed class RoomState
{
    [Id(0)]
    public bool Exists { get; set; }

    [Id(1)]
    public string? Title { get; set; }

    [Id(2)]
    public string? HostId { get; set; }

    [Id(3)]
    public TakeoverPolicy TakeoverPolicy { get; set; }

    [Id(4)]
    public int ReconnectWindowSeconds { get; set; }

    /// <summary>The one live of this room in live or paused, if any. The room's word on this is final.</summary>
    [Id(5)]
    public string? ActiveLiveId { get; set; }

    [Id(6)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(7)]
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Every live the room ever had, oldest first.</summary>
    [Id(8)]
    public List<string> Lives { get; set; } = [];

    [Id(9)]
    public long LastIntentSequence { get; set; }

    /// <summary>
    /// Lifecycle operations decided and persisted by the room but maybe not yet applied by the lives
    /// (a crash between the two writes). Replayed, in order, before the room does anything else.
    /// </summary>
    [Id(10)]
    public List<PendingLiveIntent> Pending { get; set; } = [];

    [Id(11)]
    public EventOutbox Outbox { get; set; } = new();

    /// <summary>The request id that created the room, so a retried create answers with the room.</summary>
    [Id(12)]
    public string? CreatedByRequest { get; set; }

    /// <summary>
    /// Go-live/schedule decisions by request id, oldest first: every one younger than <see cref="RoomGrain.RequestMemory"/>
    /// (at most <see cref="RoomGrain.RecentRequestLimit"/>) and at least the last <see cref="RoomGrain.RecentRequestMinimum"/>.
    /// </summary>
    [Id(13)]
    public List<DecidedRequest> RecentRequests { get; set; } = [];
}

[GenerateSerializer, Immutable, Alias("LiveGrains.DecidedRequest")]
public sealed record DecidedRequest(
    [property: Id(0)] string RequestId,
    [property: Id(1)] string LiveId,
    [property: Id(2)] string? ClosedLiveId,
    [property: Id(3)] DateTimeOffset DecidedAt = default);

[GenerateSerializer, Immutable, Alias("LiveGrains.PendingLiveIntent")]
public sealed record PendingLiveIntent(
    [property: Id(0)] string LiveId,
    [property: Id(1)] LiveOperation Operation);
