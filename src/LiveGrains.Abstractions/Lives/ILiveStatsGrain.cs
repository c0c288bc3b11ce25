using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>
/// The statistics of one live (keyed by live id): presence, counters and peaks, kept apart from the lifecycle
/// state so that a million-viewer write-behind never races a lifecycle write. Activity reaches it in batches
/// from the per-silo <see cref="ILiveActivityGrain"/> pre-aggregators, never per request.
/// </summary>
[Alias("LiveGrains.ILiveStatsGrain")]
public interface ILiveStatsGrain : IGrainWithStringKey
{
    /// <summary>The statistics as <paramref name="tenant"/> sees them; not found for any other tenant.</summary>
    [ReadOnly, Alias("GetStats")]
    Task<Result<StatsDto>> GetStatsAsync(string tenant);

    /// <summary>
    /// Aggregator-only: whether the live takes activity (<paramref name="tenant"/> is the caller's, so that the live's
    /// room can be found); subscribes the silo's buffer to closing.
    /// </summary>
    [AlwaysInterleave, Alias("Attach")]
    Task<LiveActivityGate> AttachAsync(string tenant, ILiveActivityObserver silo);

    /// <summary>
    /// Aggregator-only: applies a batch of activity already acknowledged with 202. Interleaves so that an
    /// end, which waits for the silos to hand over their buffers, never deadlocks with a flush in flight.
    /// </summary>
    [AlwaysInterleave, Alias("Apply")]
    Task<LiveActivityGate> ApplyAsync(ActivityBatch batch, ILiveActivityObserver silo);

    /// <summary>
    /// Aggregator-only, for a live with a join limit: applies the batch now, refusing each join (or heartbeat of a
    /// viewer not present) that would take the audience above the limit, so that the limit is exact however many
    /// silos join at once. Costs one call per request, and only while a limit is set.
    /// </summary>
    [AlwaysInterleave, Alias("Admit")]
    Task<ActivityAdmission> AdmitAsync(string tenant, ActivityBatch batch, ILiveActivityObserver silo);

    /// <summary>Room-only: the lifecycle changed; an end drains every silo's buffer, then freezes the stats.</summary>
    [Alias("OnLifecycle")]
    Task<StatsDto> OnLifecycleAsync(LiveStatsSubject subject);

    /// <summary>
    /// Long-poll for the event stream: returns once a status event after <paramref name="afterStatusSequence"/>
    /// exists, the stats changed after <paramref name="afterStatsVersion"/>, or <paramref name="wait"/> passed.
    /// </summary>
    /// <remarks>
    /// A long poll holds the call for up to <paramref name="wait"/> (the gateway uses 5 s), which a shortened cluster
    /// default call timeout (<c>Orleans:ResponseTimeoutSeconds</c>) could reach, so it has its own:
    /// <paramref name="wait"/> must stay well below it.
    /// </remarks>
    [AlwaysInterleave, Alias("PollEvents"), ResponseTimeout("00:00:15")]
    Task<Result<LiveEventsPoll>> PollEventsAsync(string tenant, long afterStatusSequence, long afterStatsVersion, TimeSpan wait);
}

/// <summary>
/// The per-silo pre-aggregator of one live's activity ([StatelessWorker], keyed by live id): it checks the
/// live takes activity, buffers it and flushes to the <see cref="ILiveStatsGrain"/> on a short timer.
/// </summary>
[Alias("LiveGrains.ILiveActivityGrain")]
public interface ILiveActivityGrain : IGrainWithStringKey
{
    /// <summary>
    /// Buffers the activity (or, with a join limit, applies it at once); what was accepted and refused, or not found /
    /// live_ended / invalid_transition.
    /// </summary>
    [Alias("Record")]
    Task<Result<ActivityReceipt>> RecordAsync(string tenant, ActivityRequest activity);
}

/// <summary>A silo's buffer of a live's activity, as the stats grain sees it when the live ends.</summary>
[Alias("LiveGrains.ILiveActivityObserver")]
public interface ILiveActivityObserver : IGrainObserver
{
    /// <summary>Stops accepting activity for the live and hands over everything accepted so far.</summary>
    [Alias("Close")]
    Task<ActivityBatch> CloseAsync(string liveId, LiveActivityGate gate);

    /// <summary>The live's settings changed (join limit, chat): the silo's cached gate takes them at once.</summary>
    [Alias("GateChanged")]
    Task GateChangedAsync(string liveId, LiveActivityGate gate);
}

/// <summary>
/// What happened to one activity request: <see cref="Accepted"/> items counted; <see cref="RejectedJoins"/> joins (or
/// heartbeats of absent viewers) refused by the join limit and <see cref="RejectedChatMessages"/> chat messages refused
/// because chat is disabled (a batch answers 202 <c>{accepted, rejected}</c>; a single join or chat call answers 409).
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.ActivityReceipt")]
public sealed record ActivityReceipt(
    [property: Id(0)] int Accepted,
    [property: Id(1)] int RejectedJoins = 0,
    [property: Id(2)] int RejectedChatMessages = 0)
{
    public int Rejected => RejectedJoins + RejectedChatMessages;
}

/// <summary>The answer of <see cref="ILiveStatsGrain.AdmitAsync"/>: the gate as it now is and how many joins were refused.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.ActivityAdmission")]
public sealed record ActivityAdmission(
    [property: Id(0)] LiveActivityGate Gate,
    [property: Id(1)] int RejectedJoins);

/// <summary>Viewer activity as the API receives it (ids validated by the gateway).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.ActivityRequest")]
public sealed record ActivityRequest(
    [property: Id(0)] string[]? Joins = null,
    [property: Id(1)] string[]? Heartbeats = null,
    [property: Id(2)] string[]? Leaves = null,
    [property: Id(3)] long Likes = 0,
    [property: Id(4)] long ChatMessages = 0)
{
    public int Count => (Joins?.Length ?? 0) + (Heartbeats?.Length ?? 0) + (Leaves?.Length ?? 0) + (int)Math.Min(int.MaxValue / 2, Likes + ChatMessages);
}

/// <summary>
/// Buffered activity in arrival order: each op is a 62-bit viewer hash with the kind in the top two bits
/// (see ViewerOps in the grains), which keeps a 10,000-op batch a flat ulong array on the wire.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.ActivityBatch")]
public sealed record ActivityBatch(
    [property: Id(0)] ulong[] Ops,
    [property: Id(1)] long Likes,
    [property: Id(2)] long ChatMessages)
{
    public static readonly ActivityBatch Empty = new([], 0, 0);

    public bool IsEmpty => Ops.Length == 0 && Likes == 0 && ChatMessages == 0;
}

/// <summary>
/// Whether a live takes activity: its tenant and null, or the error to answer with; and the settings the silos enforce
/// (its effective join limit, whether chat is disabled).
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveActivityGate")]
public sealed record LiveActivityGate(
    [property: Id(0)] string? Tenant,
    [property: Id(1)] DomainError? Error,
    [property: Id(2)] long? MaxJoinLimit = null,
    [property: Id(3)] bool ChatDisabled = false);

/// <summary>What the stats need from the lifecycle: owner, status, on-air time and the live as events show it.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveStatsSubject")]
public sealed record LiveStatsSubject(
    [property: Id(0)] string Tenant,
    [property: Id(1)] LiveStatus Status,
    [property: Id(2)] TimeSpan OnAirBeforeLastResume,
    [property: Id(3)] DateTimeOffset? OnAirSince,
    [property: Id(4)] LiveDto Live);

/// <summary>One answer of the event-stream long poll.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveEventsPoll")]
public sealed record LiveEventsPoll(
    [property: Id(0)] long StatusSequence,
    [property: Id(1)] LiveDto[] StatusEvents,
    [property: Id(2)] long StatsVersion,
    [property: Id(3)] StatsDto? Stats);
