namespace LiveGrains.Abstractions;

/// <summary>What a go-live on a busy room does to the live already on air.</summary>
public enum TakeoverPolicy
{
    /// <summary>End the active live with <c>superseded</c> and start the new one (PRISM Live Studio).</summary>
    Takeover = 0,

    /// <summary>Refuse with <c>live_already_active</c>.</summary>
    Reject = 1,
}

[GenerateSerializer, Immutable, Alias("LiveGrains.Room")]
public sealed record RoomDto(
    [property: Id(0)] string RoomId,
    [property: Id(1)] string? Title,
    [property: Id(2)] string? HostId,
    [property: Id(3)] TakeoverPolicy TakeoverPolicy,
    [property: Id(4)] int ReconnectWindowSeconds,
    [property: Id(5)] string? ActiveLiveId,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] DateTimeOffset UpdatedAt,
    [property: Id(8)] string? Description = null,
    [property: Id(9), System.Text.Json.Serialization.JsonConverter(typeof(VerbatimKeysJsonConverter))] Dictionary<string, string>? Metadata = null,
    [property: Id(10)] Visibility Visibility = Visibility.Public,
    [property: Id(11)] string? CreatedBy = null,
    [property: Id(40)] string? PresetId = null,
    [property: Id(80)] string[]? CoHostIds = null)
{
    /// <summary>
    /// Host only (api.md, "Access"): a room with a <see cref="HostId"/> or <see cref="CoHostIds"/> lets a token run its
    /// lives only when the token's user is one of them; a room with neither lets any host token.
    /// </summary>
    public bool AllowsHost(string userId) =>
        (HostId is null && CoHostIds is not { Length: > 0 })
        || string.Equals(HostId, userId, StringComparison.Ordinal)
        || (CoHostIds is not null && Array.IndexOf(CoHostIds, userId) >= 0);
}

[GenerateSerializer, Immutable, Alias("LiveGrains.CreateRoomCommand")]
public sealed record CreateRoomCommand(
    [property: Id(0)] string? Title,
    [property: Id(1)] string? HostId,
    [property: Id(2)] TakeoverPolicy TakeoverPolicy,
    [property: Id(3)] int ReconnectWindowSeconds,
    [property: Id(4)] string? RequestId = null,
    [property: Id(5)] ResourceDetails? Details = null,
    [property: Id(40)] string? PresetId = null,
    [property: Id(80)] string[]? CoHostIds = null);

/// <summary>
/// A partial update: null members are left as they are (an empty <see cref="PresetId"/> removes the room's preset, an
/// empty <see cref="CoHostIds"/> removes its co-hosts).
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.UpdateRoomCommand")]
public sealed record UpdateRoomCommand(
    [property: Id(0)] string? Title,
    [property: Id(1)] string? HostId,
    [property: Id(2)] TakeoverPolicy? TakeoverPolicy,
    [property: Id(3)] int? ReconnectWindowSeconds,
    [property: Id(4)] ResourceDetails? Details = null,
    [property: Id(40)] string? PresetId = null,
    [property: Id(80)] string[]? CoHostIds = null);

/// <summary>
/// <see cref="RequestId"/> (a digest of the client's Idempotency-Key) lets the room answer a retry of a
/// go-live it already decided with that decision, even when the first attempt's response was lost.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.GoLiveCommand")]
public sealed record GoLiveCommand(
    [property: Id(0)] string? Title,
    [property: Id(1)] string? StartedBy,
    [property: Id(2)] string? RequestId = null,
    [property: Id(3)] ResourceDetails? Details = null,
    [property: Id(40)] LiveOverrides? Overrides = null,
    [property: Id(41)] LiveMode? Mode = null);

[GenerateSerializer, Immutable, Alias("LiveGrains.ScheduleLiveCommand")]
public sealed record ScheduleLiveCommand(
    [property: Id(0)] string? Title,
    [property: Id(1)] DateTimeOffset? ScheduledStartTime,
    [property: Id(2)] string? RequestId = null,
    [property: Id(3)] ResourceDetails? Details = null,
    [property: Id(40)] LiveOverrides? Overrides = null,
    [property: Id(41)] LiveMode? Mode = null);

/// <summary>A partial update of a live: null members are left as they are (see <see cref="ResourceDetails"/>).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.UpdateLiveCommand")]
public sealed record UpdateLiveCommand(
    [property: Id(0)] string? Title,
    [property: Id(1)] ResourceDetails? Details,
    [property: Id(40)] LiveOverrides? Overrides = null,
    [property: Id(41)] LiveOverrideFields OverridesSet = LiveOverrideFields.None,
    [property: Id(42)] LiveMode? Mode = null);

[GenerateSerializer, Immutable, Alias("LiveGrains.GoLiveResult")]
public sealed record GoLiveResult(
    [property: Id(0)] LiveDto Live,
    [property: Id(1)] LiveDto? ClosedLive);

[GenerateSerializer, Immutable, Alias("LiveGrains.LivePage")]
public sealed record LivePage(
    [property: Id(0)] IReadOnlyList<LiveDto> Items,
    [property: Id(1)] string? NextCursor);
