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

    /// <summary>
    /// The grain key of the room that decides this live's transitions, for <paramref name="tenant"/> only.
    /// Callers then call the room (see <see cref="LiveTransitions"/>): a live never calls its room on behalf
    /// of a command, so no call chain comes back into a live (which, while its silo shuts down, would wait
    /// for the live's own running request and time out).
    /// </summary>
    [Alias("GetRoomKey"), ReadOnly]
    Task<Result<string>> GetRoomKeyAsync(string tenant);

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
