using System.Collections.Concurrent;

namespace LiveGrains.Abstractions;

public static class LiveTransitions
{
    /// <summary>Lives whose room was looked up recently: a live never changes room, so an entry never goes stale.</summary>
    private const int MaxCachedRoutes = 100_000;
    private static readonly ConcurrentDictionary<(string Tenant, string LiveId), string> RoomKeys = new();

    /// <summary>
    /// ready|start|pause|resume|end of a live, decided by its room: the room key comes from the live (a routing
    /// call, also the tenant check) the first time, then from this process's cache of that immutable fact.
    /// </summary>
    public static async Task<Result<LiveDto>> TransitionLiveAsync(this IGrainFactory grains, string tenant, string liveId, LiveCommand command)
    {
        if (!RoomKeys.TryGetValue((tenant, liveId), out var roomKey))
        {
            var room = await grains.GetGrain<ILiveGrain>(liveId).GetRoomKeyAsync(tenant);
            if (!room.IsSuccess)
            {
                return room.Error!;
            }

            roomKey = room.Value!;
            if (RoomKeys.Count >= MaxCachedRoutes)
            {
                RoomKeys.Clear(); // bounded: lookups simply start over
            }

            RoomKeys[(tenant, liveId)] = roomKey;
        }

        return await grains.GetGrain<IRoomGrain>(roomKey).TransitionLiveAsync(liveId, command);
    }
}
