using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>
/// A room's restream destinations (api.md "Destinations", docs/ingest.md): the room owns them because their status
/// follows its lives, and a status that follows a live changes in the same write as the live's transition.
/// </summary>
public partial interface IRoomGrain
{
    [Alias("CreateDestination")]
    Task<Result<DestinationDto>> CreateDestinationAsync(CreateDestinationCommand command);

    /// <summary>The room's destinations, oldest first.</summary>
    [Alias("ListDestinations"), ReadOnly]
    Task<Result<DestinationDto[]>> ListDestinationsAsync();

    [Alias("GetDestination"), ReadOnly]
    Task<Result<DestinationDto>> GetDestinationAsync(string destinationId);

    /// <summary>Changes a destination; a change of url, key or enabled takes a running push offline (it stops at its next report).</summary>
    [Alias("UpdateDestination")]
    Task<Result<DestinationDto>> UpdateDestinationAsync(string destinationId, UpdateDestinationCommand command);

    [Alias("DeleteDestination")]
    Task<Result<bool>> DeleteDestinationAsync(string destinationId);

    /// <summary>
    /// Stream-only (a media server's restream script, key checked by the stream): the pushes to run for a publish of
    /// <paramref name="streamId"/> feeding <paramref name="liveId"/>. Empty unless that live is on air and the stream is
    /// its pushing feed (the first publishing: a backup never pushes a second copy, and takes over when the primary stops).
    /// </summary>
    [Alias("RestreamPlan")]
    Task<Result<RestreamPlan>> RestreamPlanAsync(string streamId, string liveId);

    /// <summary>
    /// Stream-only: a push's status from the restream script of <paramref name="streamId"/>. Applied only while it still
    /// stands (same live on air, same settings revision, the stream is the live's pushing feed); answers whether the
    /// push should go on.
    /// </summary>
    [Alias("ReportStreamDestination")]
    Task<Result<bool>> ReportDestinationAsync(string streamId, DestinationReport report);
}
