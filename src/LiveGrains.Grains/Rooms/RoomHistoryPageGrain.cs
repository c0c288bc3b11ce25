using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Rooms;

[GenerateSerializer, Alias("LiveGrains.RoomHistoryPageState")]
public sealed class RoomHistoryPageState
{
    [Id(0)]
    public string[] LiveIds { get; set; } = [];
}

/// <summary>A saved page of a room's history (see <see cref="IRoomHistoryPageGrain"/>); activated on the room's silo.</summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class RoomHistoryPageGrain(
    [PersistentState("history", LiveGrainsStorage.State)] IPersistentState<RoomHistoryPageState> state,
    ILogger<RoomHistoryPageGrain> logger) : Grain, IRoomHistoryPageGrain
{
    public async Task SaveAsync(string[] liveIds)
    {
        if (state.State.LiveIds.AsSpan().SequenceEqual(liveIds))
        {
            return;
        }

        state.State.LiveIds = liveIds;
        await state.WriteOrReloadAsync(this, logger);
    }

    public Task<string[]> GetAsync() => Task.FromResult(state.State.LiveIds);
}
