using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>
/// One occurrence of going live, keyed by its live id (<see cref="Ids.NewLiveId"/>, which names its room). While the
/// live is not archived its lifecycle lives in its room's state (<see cref="IRoomGrain"/>, the one owner of "which live
/// is on air"); this grain is the address for reads, and after the end it reads the live's final record, which the
/// room stored in the archive. It holds no timer and no state of its own (docs/consistency.md).
/// </summary>
[Alias("LiveGrains.ILiveGrain")]
public interface ILiveGrain : IGrainWithStringKey
{
    /// <summary>The live with its statistics as <paramref name="tenant"/> sees it; not found for any other tenant.</summary>
    [Alias("Get")]
    Task<Result<LiveDto>> GetAsync(string tenant);

    /// <summary>The archived final record (no statistics call), or null while the room still owns the live or for another tenant.</summary>
    [AlwaysInterleave, Alias("GetArchived")]
    Task<LiveDto?> GetArchivedAsync(string tenant);

    /// <summary>
    /// Stats-only: owner, status and on-air time (null when the live does not exist for <paramref name="tenant"/>).
    /// Interleaves: a read of this live waits on its statistics, which may be pulling this.
    /// </summary>
    [AlwaysInterleave, Alias("GetStatsSubject")]
    Task<LiveStatsSubject?> GetStatsSubjectAsync(string tenant);

    /// <summary>Every transition of the live, oldest first (from its room, or from the archive once ended).</summary>
    [Alias("GetTransitions")]
    Task<Result<LiveTransitionRecord[]>> GetTransitionsAsync(string tenant);
}

/// <summary>The final record of an ended live, stored by its room in the archive, read through its <see cref="ILiveGrain"/>.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveArchive")]
public sealed record LiveArchive(
    [property: Id(0)] string Tenant,
    [property: Id(1)] LiveDto Live,
    [property: Id(2)] TimeSpan OnAir,
    [property: Id(3)] long LastEventSequence,
    [property: Id(4)] LiveTransitionRecord[]? Transitions = null);
