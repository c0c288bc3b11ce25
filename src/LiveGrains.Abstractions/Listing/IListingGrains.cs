using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>The orders of <c>GET /v1/lives</c>; every one is highest first (newest, or the largest audience).</summary>
public enum LiveOrder
{
    CreatedAt = 0,
    StartedAt = 1,
    ViewerCount = 2,
}

/// <summary>
/// A tenant's listings (<c>GET /v1/rooms</c>, <c>/v1/lives</c>, <c>/v1/streams</c>), keyed by tenant. Orleans has no
/// queries, so each listing reads the tenant's index shards (<see cref="ILiveIndexShardGrain"/>,
/// <see cref="IResourceIndexShardGrain"/>), merges them by the sort key and fetches the page's resources from their
/// owners, so an item shows its current state (docs/listing.md).
/// </summary>
[Alias("LiveGrains.ITenantListingGrain")]
public interface ITenantListingGrain : IGrainWithStringKey
{
    [Alias("ListRooms"), ReadOnly]
    Task<Result<RoomPage>> ListRoomsAsync(int limit, string? cursor);

    [Alias("ListLives"), ReadOnly]
    Task<Result<LivePage>> ListLivesAsync(LiveListQuery query);

    /// <summary>The streams of the tenant, or of one room; with <paramref name="roomMustExist"/>, not found for an unknown room.</summary>
    [Alias("ListStreams"), ReadOnly]
    Task<Result<StreamPage>> ListStreamsAsync(string? roomId, bool roomMustExist, int limit, string? cursor);

    /// <summary>The tenant's recorded videos, or one live's, newest first.</summary>
    [Alias("ListVideos"), ReadOnly]
    Task<Result<VideoPage>> ListVideosAsync(string? liveId, int limit, string? cursor);
}

/// <summary>One shard of a tenant's lives index, keyed <c>tenant/lives#n</c> (<see cref="IndexShards"/>).</summary>
[Alias("LiveGrains.ILiveIndexShardGrain")]
public interface ILiveIndexShardGrain : IGrainWithStringKey
{
    /// <summary>Room-only: the lives' current lifecycle (an older sequence is ignored). Durable when it returns.</summary>
    [Alias("Upsert")]
    Task UpsertAsync(LiveIndexEntry[] entries);

    /// <summary>
    /// Stats-only (a silo's pump, LiveViewerCounts): lives' current audiences. Kept in memory and stored with the next
    /// write of the shard (the stats send them again when they change); returns the lives not in the index yet.
    /// </summary>
    [Alias("SetViewerCounts")]
    Task<string[]> SetViewerCountsAsync(LiveViewerCount[] counts);

    /// <summary>Up to <see cref="IndexQuery.Limit"/> hits after <see cref="IndexQuery.After"/>, in the order's sequence.</summary>
    [Alias("Query"), ReadOnly]
    Task<IndexHit[]> QueryAsync(LiveOrder order, LiveStatus[]? statuses, IndexQuery query);
}

/// <summary>
/// One shard of a tenant's rooms or streams index (newest first), keyed <c>tenant/rooms#n</c> or
/// <c>tenant/streams#n</c> (<see cref="IndexShards"/>).
/// </summary>
[Alias("LiveGrains.IResourceIndexShardGrain")]
public interface IResourceIndexShardGrain : IGrainWithStringKey
{
    /// <summary>Durable when it returns; idempotent.</summary>
    [Alias("Upsert")]
    Task UpsertAsync(ResourceIndexEntry entry);

    /// <summary>Durable when it returns; idempotent.</summary>
    [Alias("Remove")]
    Task RemoveAsync(string id);

    [Alias("Query"), ReadOnly]
    Task<IndexHit[]> QueryAsync(IndexQuery query);
}

/// <summary>What the lives index keeps of a live: enough to filter and sort, nothing more (about 100 bytes).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveIndexEntry")]
public sealed record LiveIndexEntry(
    [property: Id(0)] string LiveId,
    [property: Id(1)] LiveStatus Status,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset? StartedAt,
    [property: Id(4)] long Sequence,
    [property: Id(5)] long ViewerCount = 0);

/// <summary>A room or a stream in its index: its id, its room and when it was created.</summary>
/// <summary>A live's audience as its stats grain last counted it.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveViewerCount")]
public sealed record LiveViewerCount([property: Id(0)] string LiveId, [property: Id(1)] long ViewerCount);

[GenerateSerializer, Immutable, Alias("LiveGrains.ResourceIndexEntry")]
public sealed record ResourceIndexEntry(
    [property: Id(0)] string Id,
    [property: Id(1)] string RoomId,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>A position in a listing: the sort key (ticks or a count) and the id that breaks ties.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.IndexHit")]
public readonly record struct IndexHit(
    [property: Id(0)] long Key,
    [property: Id(1)] string Id);

/// <summary>Hits after <see cref="After"/> (exclusive; null: from the top), of one room when <see cref="RoomId"/> is set.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.IndexQuery")]
public sealed record IndexQuery(
    [property: Id(0)] string? RoomId,
    [property: Id(1)] IndexHit? After,
    [property: Id(2)] int Limit);

[GenerateSerializer, Immutable, Alias("LiveGrains.LiveListQuery")]
public sealed record LiveListQuery(
    [property: Id(0)] LiveOrder Order,
    [property: Id(1)] LiveStatus[]? Statuses,
    [property: Id(2)] string? RoomId,
    [property: Id(3)] int Limit,
    [property: Id(4)] string? Cursor);

[GenerateSerializer, Immutable, Alias("LiveGrains.RoomPage")]
public sealed record RoomPage(
    [property: Id(0)] IReadOnlyList<RoomDto> Items,
    [property: Id(1)] string? NextCursor);

[GenerateSerializer, Immutable, Alias("LiveGrains.VideoPage")]
public sealed record VideoPage(
    [property: Id(0)] IReadOnlyList<VideoDto> Items,
    [property: Id(1)] string? NextCursor);

[GenerateSerializer, Immutable, Alias("LiveGrains.StreamPage")]
public sealed record StreamPage(
    [property: Id(0)] IReadOnlyList<StreamDto> Items,
    [property: Id(1)] string? NextCursor);

/// <summary>
/// How a tenant's indexes are split: by a stable hash of the room id, so every live and stream of a room sits in the
/// same shard as the room (a <c>room_id</c> filter reads one shard) and no grain holds a whole tenant.
/// </summary>
public static class IndexShards
{
    /// <summary>Shards per index and tenant. Part of the stored layout: changing it needs a re-index.</summary>
    public const int Count = 16;

    public const string Rooms = "rooms";
    public const string Lives = "lives";
    public const string Streams = "streams";

    /// <summary>Videos, sharded by their live's room; an entry's room field holds the live id (so live_id filters in one shard).</summary>
    public const string Videos = "videos";

    /// <summary>FNV-1a over the id's UTF-16 code units: the same on every node and across versions (unlike string.GetHashCode).</summary>
    public static int Of(string roomId)
    {
        var hash = 2166136261u;
        foreach (var c in roomId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % Count);
    }

    public static string Key(string tenant, string index, int shard) =>
        TenantKey.Compose(tenant, index + "#" + shard.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The key of the lives index shard that holds the lives of <paramref name="roomId"/>.</summary>
    public static string LiveShardKey(string tenant, string roomId) => Key(tenant, Lives, Of(roomId));

    public static ILiveIndexShardGrain LiveShard(this IGrainFactory grains, string tenant, string roomId) =>
        grains.Get<ILiveIndexShardGrain>(LiveShardKey(tenant, roomId));

    public static IResourceIndexShardGrain ResourceShard(this IGrainFactory grains, string tenant, string index, string roomId) =>
        grains.Get<IResourceIndexShardGrain>(Key(tenant, index, Of(roomId)));
}
