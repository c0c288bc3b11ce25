using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Lives;

/// <summary>
/// Reads one live as its owner answers it, with its statistics: the room (named by the live id) for the lives it owns,
/// the archive otherwise. The owner and the statistics are asked side by side, so a read is one round of calls deep
/// rather than two; a listing page of 20 lives fans out once instead of chaining a live grain, its room and its stats.
/// </summary>
public static class LiveReads
{
    /// <summary>
    /// The live for <paramref name="tenant"/>; <paramref name="askRoom"/> is false once the live is known to be archived,
    /// and <paramref name="archived"/> gives its final record for the tenant (or null), asked only when the room does not
    /// own it.
    /// </summary>
    public static async Task<Result<LiveDto>> ReadAsync(
        IGrainFactory grains, string tenant, string liveId, bool askRoom, Func<Task<LiveDto?>> archived)
    {
        var stats = grains.Get<ILiveStatsGrain>(liveId).GetStatsAsync(tenant);
        if (askRoom && Ids.TryGetRoomOfLive(liveId, out var roomId)
            && await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, roomId)).GetLiveAsync(liveId) is { IsSuccess: true } owned)
        {
            return With(owned.Value!, await stats);
        }

        // Not the room's (any more): archived, or never this tenant's.
        return await archived() is { } live ? With(live, await stats) : DomainError.NotFound("Live");
    }

    private static LiveDto With(LiveDto live, Result<StatsDto> stats) =>
        stats.IsSuccess ? live with { Stats = stats.Value! with { DurationSeconds = live.DurationSeconds } } : live;
}
