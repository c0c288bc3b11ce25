using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>
/// A room (channel), keyed by <see cref="TenantKey"/>. The one owner of "which live is on air": its state holds the
/// lifecycle of every live of the room that is not archived yet, and each decision (a go-live with the live it
/// supersedes, a start, an end) is one write of that state (docs/consistency.md).
/// </summary>
[Alias("LiveGrains.IRoomGrain")]
public partial interface IRoomGrain : IGrainWithStringKey
{
    [Alias("Create")]
    Task<Result<RoomDto>> CreateAsync(CreateRoomCommand command);

    [Alias("Get"), ReadOnly]
    Task<Result<RoomDto>> GetAsync();

    [Alias("Update")]
    Task<Result<RoomDto>> UpdateAsync(UpdateRoomCommand command);

    /// <summary>Starts a new live now, closing the active one per the room's takeover policy.</summary>
    [Alias("GoLive")]
    Task<Result<GoLiveResult>> GoLiveAsync(GoLiveCommand command);

    /// <summary>
    /// Ingest publish: with no active live, starts a new one (as go-live); with one active, joins it and resumes it
    /// if paused. Atomic, since the room decides one call at a time.
    /// </summary>
    [Alias("GoLiveForIngest")]
    Task<Result<IngestLiveResult>> GoLiveForIngestAsync(GoLiveCommand command);

    /// <summary>
    /// Ingest publish of a stream (docs/ingest.md): joins the live the stream is bound to or the active one (resuming
    /// it), else starts the bound or the earliest scheduled/ready live, else starts a new one (takeover rules apply).
    /// The stream becomes a publishing feed of that live, in the same write.
    /// </summary>
    [Alias("IngestPublish")]
    Task<Result<IngestLiveResult>> IngestPublishAsync(IngestPublishCommand command);

    /// <summary>
    /// A stream stopped feeding a live: the live pauses only when none of its feeds publishes, and ends only when it
    /// has no feed left (primary + backup ingest). Idempotent.
    /// </summary>
    [Alias("IngestStopped")]
    Task<Result<LiveDto?>> IngestStoppedAsync(IngestStopCommand command);

    /// <summary>
    /// Binds a stream to a live of this room (validation: the live exists here and has not ended), moving it off
    /// <paramref name="previousLiveId"/>; a null <paramref name="liveId"/> only unbinds. The live lists it in stream_ids.
    /// </summary>
    [Alias("BindStream")]
    Task<Result<bool>> BindStreamAsync(string streamId, string? liveId, string? previousLiveId);

    /// <summary>Creates a live in <c>scheduled</c>.</summary>
    [Alias("ScheduleLive")]
    Task<Result<LiveDto>> ScheduleLiveAsync(ScheduleLiveCommand command);

    /// <summary>Applies a lifecycle command to one of the room's lives; deduplicated by <see cref="LiveCommand.RequestId"/>.</summary>
    [Alias("TransitionLive")]
    Task<Result<LiveDto>> TransitionLiveAsync(string liveId, LiveCommand command);

    /// <summary>
    /// Deletes the room (live_already_active while a live is on air); its scheduled and ready lives end as cancelled
    /// in the same write, and every live stays readable. A later create with the same id starts the room afresh.
    /// </summary>
    [Alias("Delete")]
    Task<Result<bool>> DeleteAsync(string? by);

    /// <summary>Changes a live's title and descriptive fields (not its lifecycle); live_ended once it ended.</summary>
    [Alias("UpdateLive")]
    Task<Result<LiveDto>> UpdateLiveAsync(string liveId, UpdateLiveCommand command);

    /// <summary>
    /// Records the host entering (<paramref name="entered"/>) or leaving a live that has not ended; a repeat changes
    /// nothing. live_ended once it ended.
    /// </summary>
    [Alias("SetHostPresence")]
    Task<Result<LiveDto>> SetHostPresenceAsync(string liveId, bool entered, string? by);

    /// <summary>Every live the room ever had, newest first.</summary>
    [Alias("ListLives"), ReadOnly]
    Task<Result<LivePage>> ListLivesAsync(int limit, string? cursor);

    /// <summary>
    /// <see cref="ILiveGrain"/>-only: a live the room still owns (not found once archived: the live grain answers
    /// from its own record then). No statistics.
    /// </summary>
    [Alias("GetLive"), ReadOnly]
    Task<Result<LiveDto>> GetLiveAsync(string liveId);

    /// <summary><see cref="ILiveGrain"/>-only: the transitions of a live the room still owns, oldest first.</summary>
    [Alias("GetLiveTransitions"), ReadOnly]
    Task<Result<LiveTransitionRecord[]>> GetLiveTransitionsAsync(string liveId);

    /// <summary>
    /// Stats-only, through <see cref="ILiveGrain"/>: a live the room still owns, as its statistics need it; the room
    /// then tells that live's <see cref="ILiveStatsGrain"/> about every later transition.
    /// </summary>
    /// <remarks>
    /// Interleaves with everything, answering from the lives as stored. A room's decision waits (up to 2 s) for its
    /// push to the live's statistics, and a statistics grain that the push activates pulls its subject from here
    /// while it activates: room -> stats -> live -> room. As a read-only call this waited behind the decision that
    /// waited for it, and behind every queued decision after that one, each waiting on the stuck push. After a silo kill
    /// (statistics grains reactivating on a push) that held a room 10 s, until the push's call timed out and the
    /// activation failed (docs/chaos.md, session 10).
    /// </remarks>
    [Alias("GetStatsSubject"), AlwaysInterleave]
    Task<LiveStatsSubject?> GetStatsSubjectAsync(string liveId);
}

/// <summary>
/// One page of a room's history: the ids of <see cref="PageSize"/> consecutive lives, keyed by
/// <c>tenant/room_id#page</c>. The room writes a page once, behind, when it fills, so the room's own state stays the
/// same size whatever its history.
/// </summary>
[Alias("LiveGrains.IRoomHistoryPageGrain")]
public interface IRoomHistoryPageGrain : IGrainWithStringKey
{
    public const int PageSize = 64;

    /// <summary>Room-only: stores the page's ids (idempotent). Durable when it returns.</summary>
    [Alias("Save")]
    Task SaveAsync(string[] liveIds);

    /// <summary>The page's ids, oldest first (empty when never saved).</summary>
    [Alias("Get"), ReadOnly]
    Task<string[]> GetAsync();
}
