using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Streams;

/// <summary>
/// Restreaming (docs/ingest.md "Destinations"): the media server's restream script proves itself with the stream key it
/// was started for (nginx-rtmp passes the stream name) on top of the callback secret, and the stream routes it to its
/// room, which owns the destinations. Keys never reach a log: only the stream id.
/// </summary>
public sealed partial class StreamGrain
{
    public async Task<Result<RestreamPlan>> RestreamPlanAsync(string streamKey)
    {
        if (!S.Exists || S.Deleted || !S.Enabled || !StreamKeys.Matches(StreamId, streamKey, S.KeyHash))
        {
            logger.LogWarning("Stream {StreamId}: restream plan refused (unknown, disabled or stale key)", StreamId);
            return NotFound().Error!;
        }

        if (S.Status != StreamStatus.Connected || S.LiveId is not { } liveId)
        {
            // nginx-rtmp may start exec_push before the publish callback's answer is stored: the script asks again.
            return new DomainError(DomainErrorCode.Unavailable, "The stream is not connected yet.");
        }

        return await Room.RestreamPlanAsync(StreamId, liveId);
    }

    public async Task<Result<bool>> ReportRestreamAsync(string streamKey, DestinationReport report)
    {
        // No enabled check: the last reports of a push whose stream was just disabled still count (offline).
        if (!S.Exists || S.Deleted || !StreamKeys.Matches(StreamId, streamKey, S.KeyHash))
        {
            return NotFound().Error!;
        }

        return await Room.ReportDestinationAsync(StreamId, report);
    }
}
