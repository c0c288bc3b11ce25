namespace LiveGrains.Abstractions;

/// <summary>Where a destination goes (Fourthwall's service type; any other RTMP ingest is <c>rtmp</c>).</summary>
public enum DestinationType
{
    Twitch = 0,
    Youtube = 1,
    Rtmp = 2,
}

public enum DestinationStatus
{
    /// <summary>Not on air there: no live on air, the destination disabled, or its push not (yet) connected.</summary>
    Offline = 0,

    /// <summary>On air there: its push is connected, or (status only, no url) the room has a live on air.</summary>
    Online = 1,

    /// <summary>Its push failed (<c>last_error</c> says why); the media server keeps retrying while the live publishes.</summary>
    Error = 2,
}

/// <summary>
/// A restream destination of a room (api.md "Destinations"). The stream key is write-only: <see cref="HasStreamKey"/>
/// tells whether one is set, the key itself is never in a DTO, an event or a log.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.Destination")]
public sealed record DestinationDto(
    [property: Id(0)] string DestinationId,
    [property: Id(1)] string RoomId,
    [property: Id(2)] DestinationType Type,
    [property: Id(3)] string? Url,
    [property: Id(4)] bool HasStreamKey,
    [property: Id(5)] string? BroadcasterId,
    [property: Id(6)] string? BroadcasterLogin,
    [property: Id(7)] string? ThumbnailUrl,
    [property: Id(8)] bool Enabled,
    [property: Id(9)] DestinationStatus Status,
    [property: Id(10)] DateTimeOffset StatusAt,
    [property: Id(11)] string? LastError,
    [property: Id(12)] string? LiveId,
    [property: Id(13)] DateTimeOffset CreatedAt,
    [property: Id(14)] DateTimeOffset UpdatedAt);

/// <summary>Creates a destination; fields as <c>POST /v1/rooms/{room_id}/destinations</c> (validated by the gateway).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.CreateDestinationCommand")]
public sealed record CreateDestinationCommand(
    [property: Id(0)] DestinationType Type,
    [property: Id(1)] string? Url,
    [property: Id(2)] string? StreamKey,
    [property: Id(3)] string? BroadcasterId,
    [property: Id(4)] string? BroadcasterLogin,
    [property: Id(5)] string? ThumbnailUrl,
    [property: Id(6)] bool Enabled);

/// <summary>PATCH of a destination: null keeps a field; an empty string clears it (no url: status only).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.UpdateDestinationCommand")]
public sealed record UpdateDestinationCommand(
    [property: Id(0)] string? Url,
    [property: Id(1)] string? StreamKey,
    [property: Id(2)] string? BroadcasterId,
    [property: Id(3)] string? BroadcasterLogin,
    [property: Id(4)] string? ThumbnailUrl,
    [property: Id(5)] bool? Enabled);

/// <summary>
/// One push the media server is to run (media callbacks only): where to (<see cref="PushUrl"/> carries the stream key)
/// and the <see cref="Revision"/> of the destination's settings it was made from, which its status reports name.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.RestreamTarget")]
public sealed record RestreamTarget(
    [property: Id(0)] string DestinationId,
    [property: Id(1)] int Revision,
    [property: Id(2)] string PushUrl);

/// <summary>The pushes for one publish of a stream: the live they restream and the enabled destinations with a url.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.RestreamPlan")]
public sealed record RestreamPlan(
    [property: Id(0)] string? LiveId,
    [property: Id(1)] RestreamTarget[] Targets);

/// <summary>A push's status, as the media server's restream script reports it.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.DestinationReport")]
public sealed record DestinationReport(
    [property: Id(0)] string DestinationId,
    [property: Id(1)] int Revision,
    [property: Id(2)] string LiveId,
    [property: Id(3)] DestinationStatus Status,
    [property: Id(4)] string? Error);

public static class DestinationLimits
{
    public const int MaxPerRoom = 20;
    public const int MaxUrlLength = 1_024;
    public const int MaxStreamKeyLength = 512;
    public const int MaxBroadcasterLength = 128;
    public const int MaxThumbnailUrlLength = 2_048;
    public const int MaxErrorLength = 500;

    /// <summary>
    /// The URL a push goes to: the destination's url with its stream key as the last path segment (how Twitch, YouTube
    /// and nginx-rtmp name a stream: <c>rtmp://live.twitch.tv/app/{key}</c>).
    /// </summary>
    public static string PushUrl(string url, string? streamKey) =>
        string.IsNullOrEmpty(streamKey) ? url : url.TrimEnd('/') + "/" + streamKey;

    /// <summary>A push's error text without the key in it (ffmpeg names its output url in errors), one line, bounded.</summary>
    public static string? Redact(string? error, string? streamKey)
    {
        if (string.IsNullOrWhiteSpace(error))
        {
            return null;
        }

        var text = error.Trim();
        if (!string.IsNullOrEmpty(streamKey))
        {
            text = text.Replace(streamKey, "***", StringComparison.Ordinal);
        }

        text = new string([.. text.Select(c => char.IsControl(c) ? ' ' : c)]);
        return text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
    }
}
