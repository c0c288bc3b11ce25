using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Lives;

/// <summary>
/// The address of one live for reads, statistics and the event stream. While the live's room owns it (everything
/// before archiving) this grain asks the room, which the live id names; after the end the room hands it the final
/// record, which it stores, and then it deactivates. No timer, no state of its own before that: an on-air live with
/// no reader costs nothing here. Activated on the caller's silo, which for the archive hand-over is the room's.
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class LiveGrain(
    [PersistentState("live", LiveGrainsStorage.State)] IPersistentState<LiveState> state,
    ILogger<LiveGrain> logger) : Grain, ILiveGrain
{
    private string LiveId => this.GetPrimaryKeyString();

    private LiveArchive? Archived => state.State.Archive;

    public async Task<Result<LiveDto>> GetAsync(string tenant)
    {
        LiveDto live;
        if (Archived is { } archived)
        {
            if (!string.Equals(archived.Tenant, tenant, StringComparison.Ordinal))
            {
                return DomainError.NotFound("Live");
            }

            live = archived.Live;
        }
        else if (Room(tenant) is not { } room)
        {
            return DomainError.NotFound("Live");
        }
        else
        {
            // The room does not hand this live over while this call runs (this grain takes one call at a time), so
            // a not-found here means the live never existed for this tenant.
            var owned = await room.GetLiveAsync(LiveId);
            if (!owned.IsSuccess)
            {
                return owned;
            }

            live = owned.Value!;
        }

        if (await GrainFactory.GetGrain<ILiveStatsGrain>(LiveId).GetStatsAsync(tenant) is { IsSuccess: true } stats)
        {
            live = live with { Stats = stats.Value! with { DurationSeconds = live.DurationSeconds } };
        }

        return live;
    }

    public async Task<Result<LiveTransitionRecord[]>> GetTransitionsAsync(string tenant)
    {
        if (Archived is { } archived)
        {
            return string.Equals(archived.Tenant, tenant, StringComparison.Ordinal)
                ? archived.Transitions ?? []
                : DomainError.NotFound("Live");
        }

        // As for a read: the room does not hand this live over while this call runs.
        return Room(tenant) is { } room ? await room.GetLiveTransitionsAsync(LiveId) : DomainError.NotFound("Live");
    }

    public Task<LiveDto?> GetArchivedAsync(string tenant) =>
        Task.FromResult(Archived is { } archived && string.Equals(archived.Tenant, tenant, StringComparison.Ordinal) ? archived.Live : null);

    public async Task<LiveStatsSubject?> GetStatsSubjectAsync(string tenant)
    {
        if (Archived is null && Room(tenant) is { } room && await room.GetStatsSubjectAsync(LiveId) is { } owned)
        {
            return owned;
        }

        // Archived before, or while the room was asked (this call interleaves with the hand-over).
        return Archived is { } archived && string.Equals(archived.Tenant, tenant, StringComparison.Ordinal)
            ? new LiveStatsSubject(tenant, LiveStatus.Ended, archived.OnAir, null, archived.Live)
            : null;
    }

    public async Task ArchiveAsync(LiveArchive archive)
    {
        if (Archived is not null)
        {
            return;
        }

        state.State.Tenant = archive.Tenant;
        state.State.Archive = archive;
        await state.WriteOrReloadAsync(this, logger);

        // Ended: readers are rare from now on, and each one reads the record back in one storage read.
        this.DeactivateOnIdle();
    }

    private IRoomGrain? Room(string tenant) =>
        Ids.TryGetRoomOfLive(LiveId, out var roomId) ? GrainFactory.GetGrain<IRoomGrain>(TenantKey.Compose(tenant, roomId)) : null;
}
