namespace LiveGrains.Abstractions;

/// <summary>
/// A room (channel), keyed by <see cref="TenantKey"/>. The room is the arbiter of which of its lives is
/// active: every lifecycle change of its lives is decided here, one at a time (docs/consistency.md).
/// </summary>
[Alias("LiveGrains.IRoomGrain")]
public interface IRoomGrain : IGrainWithStringKey
{
    [Alias("Create")]
    Task<Result<RoomDto>> CreateAsync(CreateRoomCommand command);

    [Alias("Get")]
    Task<Result<RoomDto>> GetAsync();

    [Alias("Update")]
    Task<Result<RoomDto>> UpdateAsync(UpdateRoomCommand command);

    /// <summary>Starts a new live now, closing the active one per the room's takeover policy.</summary>
    [Alias("GoLive")]
    Task<Result<GoLiveResult>> GoLiveAsync(GoLiveCommand command);

    /// <summary>
    /// Ingest publish: with no active live, starts a new one (as go-live, decided as an intent); with one
    /// active, joins it and resumes it if paused. Atomic, since the room decides one call at a time.
    /// </summary>
    [Alias("GoLiveForIngest")]
    Task<Result<IngestLiveResult>> GoLiveForIngestAsync(GoLiveCommand command);

    /// <summary>Creates a live in <c>scheduled</c>.</summary>
    [Alias("ScheduleLive")]
    Task<Result<LiveDto>> ScheduleLiveAsync(ScheduleLiveCommand command);

    /// <summary>Applies a lifecycle command to one of the room's lives (called by the live grain).</summary>
    [Alias("TransitionLive")]
    Task<Result<LiveDto>> TransitionLiveAsync(string liveId, LiveCommand command);

    /// <summary>Every live the room ever had, newest first.</summary>
    [Alias("ListLives")]
    Task<Result<LivePage>> ListLivesAsync(int limit, string? cursor);

    /// <summary>
    /// Finishes any lifecycle writes the room decided but could not apply before a crash. Lives call this
    /// before they trust their own <c>live</c>/<c>paused</c> status.
    /// </summary>
    [Alias("Reconcile")]
    Task ReconcileAsync();
}
