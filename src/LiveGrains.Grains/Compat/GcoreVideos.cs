using System.Globalization;
using System.Text.Json.Nodes;
using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Compat;

/// <summary>
/// Gcore's recorded video over LiveGrains' recordings. nginx-rtmp writes one file per publish (a reconnect starts a new
/// one, as Gcore splits a recording at an interruption), so a Gcore video is "the recording of stream S's publish that
/// connected at T": its key is <c>{stream_id}/{T as unix ms}</c>, known to <c>stop_recording</c> (the stream's current
/// publish) before the file exists and to the file's <c>video.*</c> events afterwards (the video's
/// <c>recording_started_at</c> is its publish's connect time), so both name it by one number. Only a publish that a
/// recording session overlapped is a Gcore video: Gcore records only when asked (start_recording or auto_record).
/// </summary>
public static class GcoreVideos
{
    public static string Key(string streamId, DateTimeOffset connectedAt) =>
        streamId + "/" + connectedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    public static bool TryParseKey(string key, out string streamId, out DateTimeOffset connectedAt)
    {
        streamId = "";
        connectedAt = default;
        var slash = key.LastIndexOf('/');
        if (slash <= 0 || !long.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return false;
        }

        streamId = key[..slash];
        connectedAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return true;
    }

    /// <summary>The recording sessions of <paramref name="stream"/> that ran during the publish from <paramref name="connectedAt"/> to <paramref name="end"/>.</summary>
    public static IReadOnlyList<RecordingSessionDto> Sessions(StreamDto stream, DateTimeOffset connectedAt, DateTimeOffset end)
    {
        // In milliseconds: the times that come from an event's JSON (the file's) carry no more.
        var from = connectedAt.ToUnixTimeMilliseconds();
        var to = end.ToUnixTimeMilliseconds();
        return [.. stream.RecordingSessions
            .Where(r => r.StartedAt.ToUnixTimeMilliseconds() <= to && (r.StoppedAt is not { } stopped || stopped.ToUnixTimeMilliseconds() >= from))
            .OrderBy(r => r.StartedAt)];
    }

    /// <summary>
    /// The video object: <c>duration</c> in milliseconds (the probed file's once ready, else the recorded span),
    /// <c>status</c> <c>pending</c> until the file is probed, then <c>ready</c> or <c>error</c>; <c>name</c> as Gcore
    /// names stream records, from the recording's start, so every answer and webhook names it alike.
    /// </summary>
    public static JsonObject Build(
        long number, long streamNumber, string? streamName, DateTimeOffset connectedAt, IReadOnlyList<RecordingSessionDto> sessions, VideoDto? file, DateTimeOffset now)
    {
        var started = sessions.Count > 0 && sessions[0].StartedAt > connectedAt ? sessions[0].StartedAt : connectedAt;
        var stopped = file?.CreatedAt ?? sessions.Select(s => s.StoppedAt).LastOrDefault() ?? now;
        if (sessions.Count > 0 && sessions[^1].StoppedAt is { } lastStop && lastStop < stopped)
        {
            stopped = lastStop;
        }

        var duration = file is { Status: VideoStatus.Ready, DurationSeconds: { } seconds }
            ? (long)Math.Round(seconds * 1000)
            : Math.Max(0, (long)(stopped - started).TotalMilliseconds);
        var status = file?.Status switch
        {
            VideoStatus.Ready => "ready",
            VideoStatus.Failed => "error",
            _ => "pending",
        };
        var converted = new JsonArray();
        if (file is { Status: VideoStatus.Ready })
        {
            // No transcoding ladder: the one rendition is the recorded file itself.
            converted.Add(new JsonObject { ["name"] = "original", ["status"] = "complete" });
        }

        return new JsonObject
        {
            ["id"] = number,
            ["slug"] = file?.VideoId,
            ["name"] = string.Create(CultureInfo.InvariantCulture, $"Stream Record: {streamName}, {started.UtcDateTime:yyyy-MM-dd HH:mm:ss} +0000"),
            ["status"] = status,
            ["duration"] = duration,
            ["stream_id"] = streamNumber,
            ["recording_started_at"] = Rfc3339Millis(started),
            ["created_at"] = Rfc3339Millis(file?.CreatedAt ?? stopped),
            ["converted_videos"] = converted,
        };
    }

    public static string Rfc3339Millis(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
