using LiveGrains.Abstractions;
using LiveGrains.Grains.Lives;
using Orleans.Concurrency;

namespace LiveGrains.Grains.Listing;

/// <summary>
/// Answers a tenant's listings: asks the index shards for a page each (one shard when a room is named), merges them
/// by the sort key (k-way, the cursor being the last key and id), then fetches the page's resources from their owners
/// in parallel. An index entry whose resource is gone, or whose current state no longer matches the filter (the
/// index lags by up to 2 s), is skipped, and the page is topped up from further down. Stateless: any silo answers.
/// </summary>
[StatelessWorker]
public sealed class TenantListingGrain : Grain, ITenantListingGrain
{
    /// <summary>How many times a page short of skipped entries is topped up before it is returned short.</summary>
    private const int MaxRounds = 4;

    private string Tenant => this.GetPrimaryKeyString();

    public Task<Result<RoomPage>> ListRoomsAsync(int limit, string? cursor) =>
        PageAsync(
            IndexShards.Rooms,
            cursor,
            limit,
            (after, want) => AllShards(IndexShards.Rooms).Select(s => s.QueryAsync(new IndexQuery(null, after, want))),
            async hit => await GrainFactory.Get<IRoomGrain>(TenantKey.Compose(Tenant, hit.Id)).GetAsync() is { IsSuccess: true } room ? room.Value : null,
            (items, next) => new RoomPage(items, next));

    public Task<Result<LivePage>> ListLivesAsync(LiveListQuery query)
    {
        var shards = query.RoomId is { } roomId
            ? [GrainFactory.LiveShard(Tenant, roomId)]
            : Enumerable.Range(0, IndexShards.Count).Select(i => GrainFactory.Get<ILiveIndexShardGrain>(IndexShards.Key(Tenant, IndexShards.Lives, i))).ToArray();
        return PageAsync(
            "lives:" + query.Order.ToString().ToLowerInvariant(),
            query.Cursor,
            query.Limit,
            (after, want) => shards.Select(s => s.QueryAsync(query.Order, query.Statuses, new IndexQuery(query.RoomId, after, want))),
            async hit =>
            {
                var live = await LiveReads.ReadAsync(
                    GrainFactory, Tenant, hit.Id, askRoom: true, () => GrainFactory.Get<ILiveGrain>(hit.Id).GetArchivedAsync(Tenant));
                return live.IsSuccess && Matches(live.Value!, query) ? live.Value : null;
            },
            (items, next) => new LivePage(items, next));
    }

    public async Task<Result<StreamPage>> ListStreamsAsync(string? roomId, bool roomMustExist, int limit, string? cursor)
    {
        if (roomMustExist && roomId is not null
            && await GrainFactory.Get<IRoomGrain>(TenantKey.Compose(Tenant, roomId)).GetAsync() is { IsSuccess: false } missing)
        {
            return missing.Error!;
        }

        var shards = roomId is null
            ? AllShards(IndexShards.Streams)
            : [GrainFactory.ResourceShard(Tenant, IndexShards.Streams, roomId)];
        return await PageAsync(
            IndexShards.Streams,
            cursor,
            limit,
            (after, want) => shards.Select(s => s.QueryAsync(new IndexQuery(roomId, after, want))),
            async hit => await GrainFactory.Get<IStreamGrain>(hit.Id).GetAsync(Tenant) is { IsSuccess: true } stream
                && (roomId is null || stream.Value!.RoomId == roomId) ? stream.Value : null,
            (items, next) => new StreamPage(items, next));
    }

    public Task<Result<VideoPage>> ListVideosAsync(string? liveId, int limit, string? cursor)
    {
        // A live's videos sit in its room's shard, filed under the live id (IndexShards.Videos).
        var shards = liveId is not null && Ids.TryGetRoomOfLive(liveId, out var roomId)
            ? [GrainFactory.ResourceShard(Tenant, IndexShards.Videos, roomId)]
            : AllShards(IndexShards.Videos);
        return PageAsync(
            IndexShards.Videos,
            cursor,
            limit,
            (after, want) => shards.Select(s => s.QueryAsync(new IndexQuery(liveId, after, want))),
            async hit => await GrainFactory.Get<IVideoGrain>(hit.Id).GetAsync(Tenant) is { IsSuccess: true } video
                && (liveId is null || video.Value!.LiveId == liveId) ? video.Value : null,
            (items, next) => new VideoPage(items, next));
    }

    private static bool Matches(LiveDto live, LiveListQuery query) =>
        (query.Statuses is not { Length: > 0 } statuses || statuses.Contains(live.Status))
        && (query.RoomId is null || live.RoomId == query.RoomId);

    private IResourceIndexShardGrain[] AllShards(string index) =>
        [.. Enumerable.Range(0, IndexShards.Count).Select(i => GrainFactory.Get<IResourceIndexShardGrain>(IndexShards.Key(Tenant, index, i)))];

    private static async Task<Result<TPage>> PageAsync<T, TPage>(
        string listing,
        string? cursor,
        int limit,
        Func<IndexHit?, int, IEnumerable<Task<IndexHit[]>>> query,
        Func<IndexHit, Task<T?>> fetch,
        Func<IReadOnlyList<T>, string?, TPage> page)
        where T : class
    {
        IndexHit? after = null;
        if (cursor is not null)
        {
            if (!ListingCursor.TryDecode(cursor, listing, out var decoded))
            {
                return new DomainError(DomainErrorCode.ValidationFailed, "The cursor is not valid for this listing.", "cursor");
            }

            after = decoded;
        }

        var items = new List<T>(limit);
        var more = false;
        for (var round = 0; round < MaxRounds && items.Count < limit; round++)
        {
            var want = limit - items.Count;
            var shardHits = await Task.WhenAll(query(after, want));
            var merged = shardHits.SelectMany(hits => hits).Order(IndexOrder.Instance).ToList();
            var taken = merged.Take(want).ToList();

            // More may follow when the merge had more than a page, or a shard filled its page.
            more = merged.Count > want || shardHits.Any(hits => hits.Length >= want);
            if (taken.Count == 0)
            {
                more = false;
                break;
            }

            var fetched = await Task.WhenAll(taken.Select(fetch));
            items.AddRange(fetched.Where(item => item is not null).Select(item => item!));
            after = taken[^1];
            if (!more)
            {
                break;
            }
        }

        return page(items, more && after is { } last ? ListingCursor.Encode(listing, last) : null);
    }
}
