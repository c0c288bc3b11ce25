namespace LiveGrains.Abstractions;

public static class LiveTransitions
{
    /// <summary>ready|start|pause|resume|end of a live, decided by its room: two calls, live (routing) then room.</summary>
    public static async Task<Result<LiveDto>> TransitionLiveAsync(this IGrainFactory grains, string tenant, string liveId, LiveCommand command)
    {
        var room = await grains.GetGrain<ILiveGrain>(liveId).GetRoomKeyAsync(tenant);
        return room.IsSuccess
            ? await grains.GetGrain<IRoomGrain>(room.Value!).TransitionLiveAsync(liveId, command)
            : room.Error!;
    }
}
