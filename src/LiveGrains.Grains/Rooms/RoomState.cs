using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;
using LiveGrains.Grains.Lives;

namespace LiveGrains.Grains.Rooms;

/// <summary>
/// A room and the lifecycle of each of its lives that is not archived yet. Its size does not grow with the room's
/// history: ended lives leave once their own grain holds them, full history pages once their page grain does.
/// </summary>
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

    [Id(6)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(7)]
    public DateTimeOffset UpdatedAt { get; set; }

    [Id(11)]
    public EventOutbox Outbox { get; set; } = new();

    /// <summary>The request id that created the room, so a retried create answers with the room.</summary>
    [Id(12)]
    public string? CreatedByRequest { get; set; }

    /// <summary>Decisions by request id, oldest first (bounded: see <see cref="RoomRequests"/>).</summary>
    [Id(13)]
    public List<DecidedRequest> RecentRequests { get; set; } = [];

    /// <summary>
    /// The room's lives that are not archived, oldest first: scheduled, ready, live, paused, and ended ones until their
    /// <see cref="ILiveGrain"/> has taken the final record. At most one is live or paused: that is the whole invariant,
    /// and it is checked before every write.
    /// </summary>
    [Id(14)]
    public List<RoomLive> Lives { get; set; } = [];

    /// <summary>How many lives the room ever had: positions 0..HistoryCount-1, oldest first.</summary>
    [Id(15)]
    public long HistoryCount { get; set; }

    /// <summary>Positions below this are in saved <see cref="IRoomHistoryPageGrain"/> pages (a multiple of the page size).</summary>
    [Id(16)]
    public long HistorySaved { get; set; }

    /// <summary>
    /// The lives at positions HistorySaved..HistoryCount-1, oldest first, as live keys (the id without the <c>.room_id</c>
    /// every live of the room ends with).
    /// </summary>
    [Id(17)]
    public List<string> HistoryTail { get; set; } = [];

    /// <summary>How many decisions the room stored: bumped in each decision's one write.</summary>
    [Id(18)]
    public long Decisions { get; set; }

    /// <summary>
    /// Decisions up to this one are in the tenant's lives index. Advanced in memory by the pump and stored with the
    /// room's next write (never a write of its own), so after a crash the next activation pushes the lives again.
    /// </summary>
    [Id(19)]
    public long IndexedDecisions { get; set; }

    /// <summary>Deleted by <c>DELETE /v1/rooms/{room_id}</c>: gone for room calls; its lives stay readable.</summary>
    [Id(20)]
    public bool Deleted { get; set; }

    [Id(21)]
    public string? Description { get; set; }

    /// <summary>The client's map of string values (at most 32 keys, 4 KB), shown as given.</summary>
    [Id(22)]
    public Dictionary<string, string>? Metadata { get; set; }

    /// <summary>The room's visibility, which its lives without their own inherit.</summary>
    [Id(23)]
    public Visibility Visibility { get; set; }

    [Id(24)]
    public string? CreatedBy { get; set; }

    /// <summary>The preset the room's new lives start from (else the tenant's default); ids from 40 apart from other branches'.</summary>
    [Id(40)]
    public string? PresetId { get; set; }

    /// <summary>Users who may run the room's lives besides <see cref="HostId"/> (host only, api.md "Access"); null for none.</summary>
    [Id(80)]
    public string[]? CoHostIds { get; set; }

    // Ingest (docs/ingest.md). High ids on purpose: other areas add fields to this state too.

    /// <summary>
    /// Streams to tell that the live they fed was superseded or ended (so they go idle and their publisher is dropped
    /// at the media server), recorded in the decision's own write; the pump delivers them and they leave with a later write.
    /// </summary>
    [Id(60)]
    public List<IngestDetach> PendingDetaches { get; set; } = [];

    /// <summary>
    /// Restream destinations (docs/ingest.md "Destinations"), oldest first, at most
    /// <see cref="DestinationLimits.MaxPerRoom"/>: their status follows the lives in each decision's one write.
    /// </summary>
    [Id(70)]
    public List<RoomDestination> Destinations { get; set; } = [];
}

/// <summary>
/// A live's settings: the preset it started from (a copy taken when the live was created, so editing a preset never
/// changes a broadcast under way) and its own overrides. Null on a live with neither (the built-in defaults).
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.RoomLiveSettings")]
public sealed record LiveSettings(
    [property: Id(0)] string? PresetId,
    [property: Id(1)] PresetSettings? Preset,
    [property: Id(2)] LiveOverrides? Overrides)
{
    public PresetSettings Effective => EffectiveSettings.Of(Preset, Overrides);
}

/// <summary>A stream that fed <see cref="LiveId"/> must hear that it closed; <see cref="Decision"/> is the decision that recorded it.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.IngestDetach")]
public sealed record IngestDetach(
    [property: Id(0)] string StreamId,
    [property: Id(1)] string LiveId,
    [property: Id(2)] long Decision);

/// <summary>A stream feeding a live: publishing now, or waiting for its publisher within its reconnect window.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.IngestFeed")]
public sealed record IngestFeed(
    [property: Id(0)] string StreamId,
    [property: Id(1)] bool Publishing);

/// <summary>A live its room owns: the lifecycle and the last sequence of its own events (webhooks are per resource).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.RoomLive")]
public sealed record RoomLive(
    [property: Id(0)] string LiveId,
    [property: Id(1)] string? Title,
    [property: Id(2)] LiveLifecycle Lifecycle,
    [property: Id(3)] long LastEventSequence,
    [property: Id(4)] ResourceDetails? Details = null,
    [property: Id(5)] RoomTransition[]? Transitions = null,
    [property: Id(6)] DateTimeOffset? UpdatedAt = null,
    [property: Id(20)] IngestFeed[]? Feeds = null,
    [property: Id(21)] string[]? StreamIds = null,
    [property: Id(40)] LiveSettings? Settings = null,
    [property: Id(41)] RoomLiveHost? Host = null,
    [property: Id(42)] LiveMode Mode = LiveMode.Rtmp);

/// <summary>
/// The host's presence in a live (times as Unix ms: the room writes its lives with every decision). Whether it is
/// streaming is its ingest feeds' (<see cref="RoomLive.Feeds"/>), not a second record here.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.RoomLiveHost")]
public sealed record RoomLiveHost(
    [property: Id(0)] HostState? State = null,
    [property: Id(1)] long? EnteredAtMs = null,
    [property: Id(2)] long? ExitedAtMs = null,
    [property: Id(5)] string? By = null);

// RoomLive.UpdatedAt is the last edit of the live's details (PATCH); its last transition's time is in Transitions.

/// <summary>
/// A <see cref="LiveTransitionRecord"/> as the room stores it: the time as Unix milliseconds (a varint, not a
/// 20-byte DateTimeOffset), since the room writes its lives' trails with every decision.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.RoomTransition")]
public sealed record RoomTransition(
    [property: Id(0)] long AtMs,
    [property: Id(1)] LiveStatus? From,
    [property: Id(2)] LiveStatus To,
    [property: Id(3)] string? By,
    [property: Id(4)] EndReason? Reason)
{
    public static RoomTransition Of(LiveTransitionRecord record) =>
        new(record.At.ToUnixTimeMilliseconds(), record.From, record.To, record.By, record.Reason);

    public LiveTransitionRecord ToRecord() => new(DateTimeOffset.FromUnixTimeMilliseconds(AtMs), From, To, By, Reason);
}

/// <summary>
/// A decision by request id: the 64-bit hash of the request id and the live ids it answered with (without their
/// <c>.room_id</c> suffix, which every live of the room shares), so a remembered request costs about 70 bytes.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.DecidedRequest")]
public sealed record DecidedRequest(
    [property: Id(4)] ulong RequestHash,
    [property: Id(5)] string LiveKey,
    [property: Id(6)] string? ClosedLiveKey,
    [property: Id(3)] DateTimeOffset DecidedAt);

/// <summary>
/// A destination as its room stores it. <see cref="StreamKey"/> is kept as given (a push needs it) and leaves the room
/// only in a <see cref="RestreamTarget"/> for the media server; <see cref="Revision"/> counts changes of what a push is
/// made from (url, key, enabled), so a report of a push made from older settings is ignored.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.RoomDestination")]
public sealed record RoomDestination(
    [property: Id(0)] string DestinationId,
    [property: Id(1)] DestinationType Type,
    [property: Id(2)] string? Url,
    [property: Id(3)] string? StreamKey,
    [property: Id(4)] string? BroadcasterId,
    [property: Id(5)] string? BroadcasterLogin,
    [property: Id(6)] string? ThumbnailUrl,
    [property: Id(7)] bool Enabled,
    [property: Id(8)] DestinationStatus Status,
    [property: Id(9)] DateTimeOffset StatusAt,
    [property: Id(10)] string? LastError,
    [property: Id(11)] string? LiveId,
    [property: Id(12)] DateTimeOffset CreatedAt,
    [property: Id(13)] DateTimeOffset UpdatedAt,
    [property: Id(14)] int Revision,
    [property: Id(15)] long LastEventSequence);
