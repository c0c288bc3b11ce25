namespace LiveGrains.Abstractions;

public enum VideoStatus
{
    /// <summary>The recording file exists; LiveGrains has not probed it yet.</summary>
    Pending = 0,

    /// <summary>Probed: a playable file with its duration and size.</summary>
    Ready = 1,

    /// <summary>The file is missing, empty or not media.</summary>
    Failed = 2,
}

/// <summary>A recording the media server finished (Gcore's recorded video: pending, then ready).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.Video")]
public sealed record VideoDto(
    [property: Id(0)] string VideoId,
    [property: Id(1)] string StreamId,
    [property: Id(2)] string? LiveId,
    [property: Id(3)] string RoomId,
    [property: Id(4)] VideoStatus Status,
    [property: Id(5)] string File,
    [property: Id(6)] double? DurationSeconds,
    [property: Id(7)] long? SizeBytes,
    [property: Id(8)] DateTimeOffset? RecordingStartedAt,
    [property: Id(9)] DateTimeOffset CreatedAt,
    [property: Id(10)] DateTimeOffset? ReadyAt,
    [property: Id(11)] string? Error = null);

[GenerateSerializer, Immutable, Alias("LiveGrains.CreateVideoCommand")]
public sealed record CreateVideoCommand(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string StreamId,
    [property: Id(2)] string? LiveId,
    [property: Id(3)] string RoomId,
    [property: Id(4)] string File,
    [property: Id(5)] DateTimeOffset? RecordingStartedAt);

/// <summary>What probing the file found: a duration and size, or why it is not a video.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.VideoProbe")]
public sealed record VideoProbe(
    [property: Id(0)] double? DurationSeconds,
    [property: Id(1)] long? SizeBytes,
    [property: Id(2)] string? Error);

/// <summary>
/// One recorded video, keyed by its server id (<c>vd_…</c>); the tenant is kept in state and checked on every call.
/// Created pending by its stream when the media server reports a finished recording; it probes its file itself, in
/// the background, and becomes ready or failed.
/// </summary>
[Alias("LiveGrains.IVideoGrain")]
public interface IVideoGrain : IGrainWithStringKey
{
    /// <summary>Stream-only: creates the video (pending) and starts probing it. Idempotent.</summary>
    [Alias("Create")]
    Task<VideoDto> CreateAsync(CreateVideoCommand command);

    [Alias("Get")]
    Task<Result<VideoDto>> GetAsync(string tenant);

    /// <summary>Deletes the video and its file.</summary>
    [Alias("Delete")]
    Task<Result<bool>> DeleteAsync(string tenant);

    /// <summary>Video-only (its probe pump): records what the probe found.</summary>
    [Alias("Probed")]
    Task ProbedAsync(VideoProbe probe);
}
