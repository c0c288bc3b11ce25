using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>
/// One occurrence of going live, keyed by its server-generated live id. It owns its lifecycle state and
/// statistics; changes that affect which live is active are decided by its room (<see cref="IRoomGrain"/>).
/// </summary>
[Alias("LiveGrains.ILiveGrain")]
public interface ILiveGrain : IGrainWithStringKey
{
    /// <summary>The live as <paramref name="tenant"/> sees it; not found for any other tenant.</summary>
    [Alias("Get")]
    Task<Result<LiveDto>> GetAsync(string tenant);

    /// <summary>ready|start|pause|resume|end, decided by the room.</summary>
    [Alias("Transition")]
    Task<Result<LiveDto>> TransitionAsync(string tenant, LiveCommand command);

    /// <summary>Room-only: applies a decided lifecycle operation. Idempotent per operation sequence.</summary>
    [AlwaysInterleave, Alias("Apply")]
    Task<Result<LiveDto>> ApplyAsync(LiveOperation operation);

    /// <summary>Room-only: the current state without any consistency check (null when the live does not exist).</summary>
    [AlwaysInterleave, Alias("Snapshot")]
    Task<LiveDto?> GetSnapshotAsync();

    /// <summary>Stats-only: owner, status and on-air time (null when the live does not exist).</summary>
    [AlwaysInterleave, Alias("GetStatsSubject")]
    Task<LiveStatsSubject?> GetStatsSubjectAsync();
}

/// <summary>
/// A lifecycle operation decided by a room. Operations the room persisted as intents carry a
/// <see cref="Sequence"/> &gt; 0 so that replaying them after a crash applies each at most once.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveOperation")]
public sealed record LiveOperation(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] LiveCommand? Command,
    [property: Id(3)] LiveCreation? Create);

/// <summary>Creates the live (status scheduled, or live at once for go-live).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveCreation")]
public sealed record LiveCreation(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string RoomId,
    [property: Id(2)] string? Title,
    [property: Id(3)] DateTimeOffset? ScheduledStartTime,
    [property: Id(4)] bool StartNow,
    [property: Id(5)] string? StartedBy);
