using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Listing;

/// <summary>
/// The silo's pushes of rooms' lives to their tenants' lives index shards (<see cref="Rooms.RoomGrain"/>'s pump, after each
/// stored decision), batched per shard (<see cref="BatchedCalls{TItem, TResult}"/>): the shard applies entries by each
/// live's event sequence, so entries of many rooms in one call land as they would one room at a time.
/// </summary>
public sealed class LiveIndexPushes(IGrainFactory grains)
{
    private readonly BatchedCalls<LiveIndexEntry, bool> _calls = new(async (shard, entries) =>
    {
        await grains.Get<ILiveIndexShardGrain>(shard).UpsertAsync([.. entries]);
        return true;
    });

    /// <summary>Returns once the shard of <paramref name="roomId"/> holds <paramref name="entries"/>.</summary>
    public Task PushAsync(string tenant, string roomId, IReadOnlyList<LiveIndexEntry> entries) =>
        _calls.CallAsync(IndexShards.LiveShardKey(tenant, roomId), entries);
}
