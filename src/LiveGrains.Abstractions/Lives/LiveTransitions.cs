namespace LiveGrains.Abstractions;

public static class LiveTransitions
{
    /// <summary>
    /// ready|start|pause|resume|end of a live, decided by its room. The room comes from the live id itself and the
    /// tenant from the caller, so a live id of another tenant reaches a room that does not know it (not found).
    /// </summary>
    public static Task<Result<LiveDto>> TransitionLiveAsync(this IGrainFactory grains, string tenant, string liveId, LiveCommand command) =>
        Ids.TryGetRoomOfLive(liveId, out var roomId)
            ? grains.Get<IRoomGrain>(TenantKey.Compose(tenant, roomId)).TransitionLiveAsync(liveId, command)
            : Task.FromResult<Result<LiveDto>>(DomainError.NotFound("Live"));
}
