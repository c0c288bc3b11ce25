using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Apis;

public sealed record CreateStreamRequest(
    string? RoomId = null,
    int? ReconnectWindowSeconds = null,
    RecordingMode? Recording = null,
    string? LiveId = null,
    string? Name = null,
    StreamRole? Role = null,
    bool? Enabled = null);

/// <summary>PATCH of a stream: absent (or null) fields stay; <c>live_id: ""</c> unbinds the stream, <c>name: ""</c> clears the name.</summary>
public sealed record UpdateStreamRequest(
    string? Name = null,
    int? ReconnectWindowSeconds = null,
    RecordingMode? Recording = null,
    string? LiveId = null,
    bool? Enabled = null);

/// <summary>
/// A stream as the API shows it: the grain's view plus the ingest URLs of this deployment. <c>stream_key</c>
/// is set only in the answers of create and rotate-key; elsewhere it is null and URLs that would carry it
/// show the placeholder <c>{stream_key}</c>.
/// </summary>
public sealed record StreamResource(
    string StreamId,
    string RoomId,
    bool Enabled,
    StreamStatus Status,
    string? StreamKey,
    string RtmpUrl,
    string WhipUrl,
    string SrtUrl,
    RecordingMode Recording,
    bool RecordingActive,
    DateTimeOffset? ConnectedAt,
    DateTimeOffset? DisconnectedAt,
    string? LiveId,
    int? ReconnectWindowSeconds,
    DateTimeOffset? ReconnectDeadline,
    int KeyVersion,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<RecordingSessionDto> RecordingSessions,
    string? Name,
    StreamRole Role,
    string? BoundLiveId)
{
    public const string KeyPlaceholder = "{stream_key}";

    public static StreamResource From(StreamDto s, IngestOptions ingest, string? key = null) => new(
        s.StreamId, s.RoomId, s.Enabled, s.Status, key,
        ingest.RtmpBaseUrl.TrimEnd('/'),
        $"{ingest.WhipBaseUrl.TrimEnd('/')}/{s.StreamId}/whip",
        $"{ingest.SrtBaseUrl.TrimEnd('/')}?streamid=publish:live/{key ?? KeyPlaceholder}",
        s.Recording, s.RecordingActive, s.ConnectedAt, s.DisconnectedAt,

        // The live it feeds while connected or reconnecting; when idle, the live its next publish starts (if bound).
        s.Status == StreamStatus.Idle ? s.BoundLiveId : s.LiveId,
        s.ReconnectWindowSeconds, s.ReconnectDeadline, s.KeyVersion, s.CreatedAt, s.UpdatedAt, s.RecordingSessions,
        s.Name, s.Role, s.BoundLiveId);
}

public static class StreamsApi
{
    /// <summary>A stream's name: free text, like a Gcore stream's name.</summary>
    public const int MaxNameLength = 200;

    public static RouteGroupBuilder MapStreamsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/streams").WithTags("Streams").RequireAuthorization();
        api.MapPost("/", CreateStreamAsync).WithName("CreateStream")
            .WithSummary("Creates an ingest stream bound to a room; the answer is the only time the stream key is shown.");
        api.MapGet("/{streamId}", GetStreamAsync).WithName("GetStream").WithSummary("Gets a stream (its key is never shown again).");
        api.MapPatch("/{streamId}", UpdateStreamAsync).WithName("UpdateStream")
            .WithSummary("Changes a stream's name, reconnect window, recording mode, bound live (live_id, \"\" unbinds) or enabled.");
        api.MapDelete("/{streamId}", DeleteStreamAsync).WithName("DeleteStream")
            .WithSummary("Deletes a stream: its key is refused, its publisher dropped, and its live ends unless another stream feeds it.");
        api.MapPost("/{streamId}/enable", EnableAsync).WithName("EnableStream").WithSummary("Allows publishing with the stream's key.");
        api.MapPost("/{streamId}/disable", DisableAsync).WithName("DisableStream")
            .WithSummary("Refuses the key; a running publish is dropped and its live ends.");
        api.MapPost("/{streamId}/rotate-key", RotateKeyAsync).WithName("RotateStreamKey")
            .WithSummary("Issues a new key (shown once); the old one is refused at once and its publisher dropped.");
        api.MapPost("/{streamId}/recording/start", StartRecordingAsync).WithName("StartRecording")
            .WithSummary("Starts a recording session of a connected stream.");
        api.MapPost("/{streamId}/recording/stop", StopRecordingAsync).WithName("StopRecording").WithSummary("Stops the running recording session.");
        return api;
    }

    public static async Task<Results<Created<StreamResource>, ProblemHttpResult>> CreateStreamAsync(
        CreateStreamRequest? body, ClaimsPrincipal user, IGrainFactory grains, TimeProvider time, IOptions<IngestOptions> ingest)
    {
        body ??= new CreateStreamRequest();
        var check = new RequestValidator()
            .ClientId("room_id", body.RoomId)
            .Range("reconnect_window_seconds", body.ReconnectWindowSeconds, 0, RequestValidator.MaxReconnectWindowSeconds)
            .Defined("recording", body.Recording)
            .Defined("role", body.Role)
            .Text("name", body.Name, MaxNameLength);
        if (body.LiveId is not null)
        {
            check.LiveId("live_id", body.LiveId);
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var streamId = Ids.NewStreamId(time.GetUtcNow());
        var result = await grains.Get<IStreamGrain>(streamId).CreateAsync(
            user.Tenant(),
            new CreateStreamCommand(
                body.RoomId!, body.ReconnectWindowSeconds, body.Recording ?? RecordingMode.Off, body.LiveId, string.IsNullOrEmpty(body.Name) ? null : body.Name,
                body.Role ?? StreamRole.Primary, body.Enabled ?? true));
        return result.IsSuccess
            ? TypedResults.Created($"/v1/streams/{streamId}", StreamResource.From(result.Value!.Stream, ingest.Value, result.Value.StreamKey))
            : Problems.From(result.Error!);
    }

    public static Task<Results<Ok<StreamResource>, ProblemHttpResult>> GetStreamAsync(
        string streamId, ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest) =>
        Call(streamId, ingest, () => grains.Get<IStreamGrain>(streamId).GetAsync(user.Tenant()));

    public static async Task<Results<Ok<StreamResource>, ProblemHttpResult>> UpdateStreamAsync(
        string streamId, UpdateStreamRequest? body, ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest)
    {
        body ??= new UpdateStreamRequest();
        var check = new RequestValidator()
            .ServerId("stream_id", streamId, "st_")
            .Range("reconnect_window_seconds", body.ReconnectWindowSeconds, 0, RequestValidator.MaxReconnectWindowSeconds)
            .Defined("recording", body.Recording)
            .Text("name", body.Name, MaxNameLength);
        if (body.LiveId is { Length: > 0 })
        {
            check.LiveId("live_id", body.LiveId);
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await grains.Get<IStreamGrain>(streamId).PatchAsync(
            user.Tenant(), new UpdateStreamCommand(body.Name, body.ReconnectWindowSeconds, body.Recording, body.LiveId, body.Enabled));
        return result.IsSuccess ? TypedResults.Ok(StreamResource.From(result.Value!, ingest.Value)) : Problems.From(result.Error!);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteStreamAsync(string streamId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (InvalidStreamId(streamId) is { } invalid)
        {
            return invalid;
        }

        var result = await grains.Get<IStreamGrain>(streamId).DeleteAsync(user.Tenant());
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    public static Task<Results<Ok<StreamResource>, ProblemHttpResult>> EnableAsync(
        string streamId, ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest) =>
        Call(streamId, ingest, () => grains.Get<IStreamGrain>(streamId).SetEnabledAsync(user.Tenant(), true));

    public static Task<Results<Ok<StreamResource>, ProblemHttpResult>> DisableAsync(
        string streamId, ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest) =>
        Call(streamId, ingest, () => grains.Get<IStreamGrain>(streamId).SetEnabledAsync(user.Tenant(), false));

    public static async Task<Results<Ok<StreamResource>, ProblemHttpResult>> RotateKeyAsync(
        string streamId, ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest)
    {
        if (InvalidStreamId(streamId) is { } invalid)
        {
            return invalid;
        }

        var result = await grains.Get<IStreamGrain>(streamId).RotateKeyAsync(user.Tenant());
        return result.IsSuccess
            ? TypedResults.Ok(StreamResource.From(result.Value!.Stream, ingest.Value, result.Value.StreamKey))
            : Problems.From(result.Error!);
    }

    public static Task<Results<Ok<StreamResource>, ProblemHttpResult>> StartRecordingAsync(
        string streamId, ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest) =>
        Call(streamId, ingest, () => grains.Get<IStreamGrain>(streamId).StartRecordingAsync(user.Tenant()));

    public static Task<Results<Ok<StreamResource>, ProblemHttpResult>> StopRecordingAsync(
        string streamId, ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest) =>
        Call(streamId, ingest, () => grains.Get<IStreamGrain>(streamId).StopRecordingAsync(user.Tenant()));

    private static async Task<Results<Ok<StreamResource>, ProblemHttpResult>> Call(
        string streamId, IOptions<IngestOptions> ingest, Func<Task<Result<StreamDto>>> call)
    {
        if (InvalidStreamId(streamId) is { } invalid)
        {
            return invalid;
        }

        var result = await call();
        return result.IsSuccess ? TypedResults.Ok(StreamResource.From(result.Value!, ingest.Value)) : Problems.From(result.Error!);
    }

    private static ProblemHttpResult? InvalidStreamId(string streamId)
    {
        var check = new RequestValidator().ServerId("stream_id", streamId, "st_");
        return check.IsValid ? null : check.Problem;
    }
}
