using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Lives;

/// <summary>
/// The address of one live for reads, statistics and the event stream. While the live's room owns it (everything
/// before archiving) this grain asks the room, which the live id names; once the room no longer owns it, its final
/// record is in the <see cref="LiveArchives"/> (the room wrote it there before letting the live go), and this grain
/// reads it once and keeps it: an archived record never changes. No timer and no state of its own: an on-air live
/// with no reader costs nothing here. Activated on the caller's silo.
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class LiveGrain(LiveArchives archives) : Grain, ILiveGrain
{
    private LiveArchive? _archived;

    private string LiveId => this.GetPrimaryKeyString();

    public Task<Result<LiveDto>> GetAsync(string tenant) =>
        LiveReads.ReadAsync(GrainFactory, tenant, LiveId, askRoom: _archived is null, async () => (await ArchivedAsync(tenant))?.Live);

    public async Task<Result<LiveTransitionRecord[]>> GetTransitionsAsync(string tenant)
    {
        // As for a read: the room answers for the lives it owns; otherwise the archive holds the trail.
        if (_archived is null && Room(tenant) is { } room && await room.GetLiveTransitionsAsync(LiveId) is { IsSuccess: true } owned)
        {
            return owned;
        }

        return await ArchivedAsync(tenant) is { } archived ? archived.Transitions ?? [] : DomainError.NotFound("Live");
    }

    public async Task<LiveDto?> GetArchivedAsync(string tenant) => (await ArchivedAsync(tenant))?.Live;

    public async Task<LiveStatsSubject?> GetStatsSubjectAsync(string tenant)
    {
        if (_archived is null && Room(tenant) is { } room && await room.GetStatsSubjectAsync(LiveId) is { } owned)
        {
            return owned;
        }

        return await ArchivedAsync(tenant) is { } archived
            ? new LiveStatsSubject(tenant, LiveStatus.Ended, archived.OnAir, null, archived.Live)
            : null;
    }

    /// <summary>The final record for <paramref name="tenant"/>, or null; read from storage until there is one.</summary>
    private async Task<LiveArchive?> ArchivedAsync(string tenant)
    {
        _archived ??= await archives.ReadAsync(LiveId);
        return _archived is { } archived && string.Equals(archived.Tenant, tenant, StringComparison.Ordinal) ? archived : null;
    }

    private IRoomGrain? Room(string tenant) =>
        Ids.TryGetRoomOfLive(LiveId, out var roomId) ? GrainFactory.Get<IRoomGrain>(TenantKey.Compose(tenant, roomId)) : null;
}
