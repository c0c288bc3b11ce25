namespace LiveGrains.Abstractions;

/// <summary>Restreaming (docs/ingest.md "Destinations"): the media server's restream script, authenticated by the stream key.</summary>
public partial interface IStreamGrain
{
    /// <summary>
    /// The pushes for the publish running with <paramref name="streamKey"/> (the stream name nginx-rtmp's
    /// <c>exec_push</c> was started for). Fails (not found) for a wrong, stale or disabled key; a stream that is not
    /// connected yet answers <c>unavailable</c> (the script asks again).
    /// </summary>
    [Alias("RestreamPlan")]
    Task<Result<RestreamPlan>> RestreamPlanAsync(string streamKey);

    /// <summary>A push's status from the restream script of <paramref name="streamKey"/>; answers whether to go on pushing.</summary>
    [Alias("ReportRestream")]
    Task<Result<bool>> ReportRestreamAsync(string streamKey, DestinationReport report);
}
