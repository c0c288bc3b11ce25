using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using LiveGrains.Grains.Compat;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Apis.Compat.Gcore;

/// <summary>
/// Gcore Streaming's streams, broadcasts and videos (seed 004, the tutorial) under <c>/compat/gcore/streaming</c>, with
/// <c>Authorization: APIKey &lt;key&gt;</c> and integer ids (<see cref="GcoreIds"/>). A Gcore stream is a LiveGrains
/// stream in a room of its own (<c>gcore-stream-{id}</c>); a broadcast is a live of that room; a video is one
/// recording session of a stream.
/// </summary>
public static class GcoreApi
{
    public const string Scheme = "Gcore";
    public const string Policy = "compat:gcore";

    public static readonly ICompatErrors Errors = new GcoreErrors();

    public static RouteGroupBuilder MapGcoreApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/compat/gcore/streaming").WithTags("Compat: Gcore").RequireAuthorization(Policy).WithMetadata(Errors);
        api.MapPost("/streams", CreateStreamAsync).WithName("GcoreCreateStream").WithSummary("Gcore: creates a stream (step 1).");
        api.MapGet("/streams/{streamId}", GetStreamAsync).WithName("GcoreGetStream").WithSummary("Gcore: a stream with live/recording.");
        api.MapPatch("/streams/{streamId}", UpdateStreamAsync).WithName("GcoreUpdateStream")
            .WithSummary("Gcore: activates or deactivates a stream, renames it (steps 3, 14, stream reuse).");
        api.MapPut("/streams/{streamId}/start_recording", StartRecordingAsync).WithName("GcoreStartRecording")
            .WithSummary("Gcore: starts recording a live stream; 204 (step 7).");
        api.MapPut("/streams/{streamId}/stop_recording", StopRecordingAsync).WithName("GcoreStopRecording")
            .WithSummary("Gcore: stops recording; answers the recorded video (step 9).");
        api.MapPost("/broadcasts", CreateBroadcastAsync).WithName("GcoreCreateBroadcast").WithSummary("Gcore: creates a pending broadcast of a stream (step 2).");
        api.MapGet("/broadcasts/{broadcastId}", GetBroadcastAsync).WithName("GcoreGetBroadcast").WithSummary("Gcore: a broadcast.");
        api.MapPatch("/broadcasts/{broadcastId}", UpdateBroadcastAsync).WithName("GcoreUpdateBroadcast")
            .WithSummary("Gcore: moves a broadcast to live, paused or finished (steps 5, 12, interruption).");
        api.MapDelete("/broadcasts/{broadcastId}", DeleteBroadcastAsync).WithName("GcoreDeleteBroadcast")
            .WithSummary("Gcore: deletes a broadcast (its live ends and stays readable through /v1); 204 (step 16).");
        api.MapGet("/videos/{videoId}", GetVideoAsync).WithName("GcoreGetVideo").WithSummary("Gcore: a recorded video (step 19).");
        return api;
    }

    public static string? CredentialOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("APIKey ", StringComparison.OrdinalIgnoreCase) ? header[7..] : null;
    }

    public static async Task<JsonHttpResult<JsonObject>> CreateStreamAsync(
        ClaimsPrincipal user, IGrainFactory grains, HttpRequest request, IOptions<IngestOptions> ingest, TimeProvider time)
    {
        var (body, invalid) = await ReadAsync(request, "stream");
        if (invalid is not null)
        {
            return invalid;
        }

        if (body.String("name") is not { Length: > 0 and <= RequestValidator.MaxTitleLength } name)
        {
            return Invalid("name", $"Required: 1-{RequestValidator.MaxTitleLength} characters.");
        }

        if (Bool(body, "active", out var active) is { } badActive)
        {
            return badActive;
        }

        if (Bool(body, "auto_record", out var autoRecord) is { } badRecord)
        {
            return badRecord;
        }

        var tenant = user.Tenant();
        var ids = new GcoreIds(grains, tenant);
        var number = await ids.NextAsync(GcoreIds.Stream);
        var roomId = RoomOf(number);
        var room = await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, roomId)).CreateAsync(
            new CreateRoomCommand(name, null, TakeoverPolicy.Takeover, RoomsApi.DefaultReconnectWindowSeconds));
        if (!room.IsSuccess && room.Error!.Code != DomainErrorCode.RoomExists)
        {
            return Errors.Result(room.Error!);
        }

        var streamId = Ids.NewStreamId(time.GetUtcNow());
        var stream = grains.Get<IStreamGrain>(streamId);
        var created = await stream.CreateAsync(tenant, new CreateStreamCommand(roomId, null, autoRecord == true ? RecordingMode.Auto : RecordingMode.Off));
        if (!created.IsSuccess)
        {
            return Errors.Result(created.Error!);
        }

        var dto = created.Value!.Stream;
        if (active == false)
        {
            // Gcore's tutorial creates streams inactive (the concurrent-session quota); step 3 activates them.
            var disabled = await stream.SetEnabledAsync(tenant, false);
            dto = disabled.Value ?? dto;
        }

        await ids.LinkAsync(GcoreIds.Stream, number, streamId);
        return TypedResults.Json(Stream(number, name, dto, ingest.Value, created.Value.StreamKey), CompatJson.Options, statusCode: StatusCodes.Status201Created);
    }

    public static async Task<JsonHttpResult<JsonObject>> GetStreamAsync(string streamId, ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest)
    {
        var tenant = user.Tenant();
        if (await ResolveStreamAsync(grains, tenant, streamId) is not ({ } number, { } id))
        {
            return NotFound("Stream");
        }

        var stream = await grains.Get<IStreamGrain>(id).GetAsync(tenant);
        return stream.IsSuccess ? Ok(Stream(number, await NameAsync(grains, tenant, stream.Value!.RoomId), stream.Value!, ingest.Value)) : Errors.Result(stream.Error!);
    }

    public static async Task<JsonHttpResult<JsonObject>> UpdateStreamAsync(
        string streamId, ClaimsPrincipal user, IGrainFactory grains, HttpRequest request, IOptions<IngestOptions> ingest)
    {
        var (body, invalid) = await ReadAsync(request, "stream");
        if (invalid is not null)
        {
            return invalid;
        }

        if (Bool(body, "active", out var active) is { } badActive)
        {
            return badActive;
        }

        if (body.IsNotString("name") || body.String("name") is { Length: 0 or > RequestValidator.MaxTitleLength })
        {
            return Invalid("name", $"1-{RequestValidator.MaxTitleLength} characters.");
        }

        var tenant = user.Tenant();
        if (await ResolveStreamAsync(grains, tenant, streamId) is not ({ } number, { } id))
        {
            return NotFound("Stream");
        }

        var stream = grains.Get<IStreamGrain>(id);
        var current = await stream.GetAsync(tenant);
        if (!current.IsSuccess)
        {
            return Errors.Result(current.Error!);
        }

        if (body.String("name") is { } name)
        {
            var renamed = await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, current.Value!.RoomId)).UpdateAsync(new UpdateRoomCommand(name, null, null, null));
            if (!renamed.IsSuccess)
            {
                return Errors.Result(renamed.Error!);
            }
        }

        // Other members (transcoding_region, cdn_id, ...) describe Gcore's own infrastructure: accepted and not used.
        var result = active is { } enabled && enabled != current.Value!.Enabled ? await stream.SetEnabledAsync(tenant, enabled) : current;
        if (!result.IsSuccess)
        {
            return Errors.Result(result.Error!);
        }

        // Reusing a stream (the tutorial's special case: PATCH transcoding_region) answers its push URLs, as Gcore does.
        // LiveGrains keeps only a hash of a key, so the one way to hand out a push URL again is a new key; only an idle
        // stream gets one, so no encoder on air is cut (docs/compat.md).
        string? key = null;
        if (body.Member("transcoding_region") is not null && result.Value!.Status == StreamStatus.Idle)
        {
            var rotated = await stream.RotateKeyAsync(tenant);
            if (!rotated.IsSuccess)
            {
                return Errors.Result(rotated.Error!);
            }

            result = rotated.Value!.Stream;
            key = rotated.Value.StreamKey;
        }

        return Ok(Stream(number, await NameAsync(grains, tenant, result.Value!.RoomId), result.Value!, ingest.Value, key));
    }

    public static async Task<Results<NoContent, JsonHttpResult<JsonObject>>> StartRecordingAsync(string streamId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.Tenant();
        if (await ResolveStreamAsync(grains, tenant, streamId) is not (_, { } id))
        {
            return NotFound("Stream");
        }

        var result = await grains.Get<IStreamGrain>(id).StartRecordingAsync(tenant);
        return result.IsSuccess ? TypedResults.NoContent() : Errors.Result(result.Error!);
    }

    public static async Task<JsonHttpResult<JsonObject>> StopRecordingAsync(string streamId, ClaimsPrincipal user, IGrainFactory grains, TimeProvider time)
    {
        var tenant = user.Tenant();
        if (await ResolveStreamAsync(grains, tenant, streamId) is not ({ } number, { } id))
        {
            return NotFound("Stream");
        }

        var stream = grains.Get<IStreamGrain>(id);
        var before = await stream.GetAsync(tenant);
        if (before.Value is not { RecordingActive: true, ConnectedAt: { } connectedAt })
        {
            return before.IsSuccess
                ? Errors.Result(StatusCodes.Status409Conflict, "invalid_transition", "The stream is not recording.")
                : Errors.Result(before.Error!);
        }

        var result = await stream.StopRecordingAsync(tenant);
        if (!result.IsSuccess)
        {
            return Errors.Result(result.Error!);
        }

        // The video is the recording of the current publish (GcoreVideos): its file comes when the publish ends, and its
        // video.* webhooks name it by this same number.
        var key = GcoreVideos.Key(id, connectedAt);
        var videoNumber = await new GcoreIds(grains, tenant).NumberOrNextAsync(GcoreIds.Video, key);
        return Ok(await VideoAsync(grains, tenant, videoNumber, number, result.Value!, key, connectedAt, time.GetUtcNow()));
    }

    public static async Task<JsonHttpResult<JsonObject>> GetVideoAsync(string videoId, ClaimsPrincipal user, IGrainFactory grains, TimeProvider time)
    {
        var tenant = user.Tenant();
        var ids = new GcoreIds(grains, tenant);
        if (!TryNumber(videoId, out var number) || await ids.ResolveAsync(GcoreIds.Video, number) is not { } key
            || !GcoreVideos.TryParseKey(key, out var streamId, out var connectedAt))
        {
            return NotFound("Video");
        }

        var stream = await grains.Get<IStreamGrain>(streamId).GetAsync(tenant);
        if (stream.Value is not { } s || await ids.NumberOfAsync(GcoreIds.Stream, streamId) is not { } streamNumber)
        {
            return NotFound("Video");
        }

        return Ok(await VideoAsync(grains, tenant, number, streamNumber, s, key, connectedAt, time.GetUtcNow()));
    }

    public static async Task<JsonHttpResult<JsonObject>> CreateBroadcastAsync(ClaimsPrincipal user, IGrainFactory grains, HttpRequest request)
    {
        var (body, invalid) = await ReadAsync(request, "broadcast");
        if (invalid is not null)
        {
            return invalid;
        }

        if (body.String("name") is not { Length: > 0 and <= RequestValidator.MaxTitleLength } name)
        {
            return Invalid("name", $"Required: 1-{RequestValidator.MaxTitleLength} characters.");
        }

        if (body.String("status") is { } status && status != "pending")
        {
            return Invalid("status", "A broadcast is created 'pending'.");
        }

        if (body.Member("stream_ids") is not { ValueKind: JsonValueKind.Array } streams || streams.GetArrayLength() != 1
            || streams[0].ValueKind != JsonValueKind.Number || !streams[0].TryGetInt64(out var streamNumber))
        {
            return Invalid("stream_ids", "Required: the id of the one stream that feeds the broadcast.");
        }

        var tenant = user.Tenant();
        if (await ResolveStreamAsync(grains, tenant, streamNumber.ToString(CultureInfo.InvariantCulture)) is not (_, { } streamId)
            || await grains.Get<IStreamGrain>(streamId).GetAsync(tenant) is not { IsSuccess: true } stream)
        {
            return Invalid("stream_ids", $"Stream {streamNumber} does not exist.");
        }

        var live = await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, stream.Value!.RoomId))
            .ScheduleLiveAsync(new ScheduleLiveCommand(name, null));
        if (!live.IsSuccess)
        {
            return Errors.Result(live.Error!);
        }

        var ids = new GcoreIds(grains, tenant);
        var number = await ids.NextAsync(GcoreIds.Broadcast);
        await ids.LinkAsync(GcoreIds.Broadcast, number, live.Value!.LiveId);
        return TypedResults.Json(Broadcast(number, live.Value!, streamNumber), CompatJson.Options, statusCode: StatusCodes.Status201Created);
    }

    public static async Task<JsonHttpResult<JsonObject>> GetBroadcastAsync(string broadcastId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.Tenant();
        if (await ResolveBroadcastAsync(grains, tenant, broadcastId) is not ({ } number, { } liveId))
        {
            return NotFound("Broadcast");
        }

        var live = await grains.Get<ILiveGrain>(liveId).GetAsync(tenant);
        return live.IsSuccess ? Ok(Broadcast(number, live.Value!, StreamNumberOf(live.Value!.RoomId))) : Errors.Result(live.Error!);
    }

    public static async Task<JsonHttpResult<JsonObject>> UpdateBroadcastAsync(string broadcastId, ClaimsPrincipal user, IGrainFactory grains, HttpRequest request)
    {
        var (body, invalid) = await ReadAsync(request, "broadcast");
        if (invalid is not null)
        {
            return invalid;
        }

        var status = body.String("status");
        if (body.IsNotString("status") || status is not (null or "pending" or "live" or "paused" or "finished"))
        {
            return Invalid("status", "One of pending, live, paused, finished.");
        }

        if (body.IsNotString("name") || body.String("name") is { Length: 0 or > RequestValidator.MaxTitleLength })
        {
            return Invalid("name", $"1-{RequestValidator.MaxTitleLength} characters.");
        }

        var tenant = user.Tenant();
        if (await ResolveBroadcastAsync(grains, tenant, broadcastId) is not ({ } number, { } liveId))
        {
            return NotFound("Broadcast");
        }

        var current = await grains.Get<ILiveGrain>(liveId).GetAsync(tenant);
        if (!current.IsSuccess)
        {
            return Errors.Result(current.Error!);
        }

        if (body.String("name") is { } name)
        {
            var renamed = await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, current.Value!.RoomId)).UpdateLiveAsync(liveId, new UpdateLiveCommand(name, null));
            if (!renamed.IsSuccess)
            {
                return Errors.Result(renamed.Error!);
            }
        }

        var kind = (status, current.Value!.Status) switch
        {
            (null, _) => (LiveCommandKind?)null,
            ("pending", LiveStatus.Scheduled or LiveStatus.Ready) => null,
            ("live", LiveStatus.Live) or ("paused", LiveStatus.Paused) or ("finished", LiveStatus.Ended) => null,
            ("live", LiveStatus.Paused) => LiveCommandKind.Resume,
            ("live", _) => LiveCommandKind.Start,
            ("paused", _) => LiveCommandKind.Pause,
            ("finished", _) => LiveCommandKind.End,
            _ => LiveCommandKind.Ready,
        };
        if (status == "pending" && kind is not null)
        {
            return Errors.Result(StatusCodes.Status409Conflict, "invalid_transition", "A broadcast that went live cannot be pending again.");
        }

        if (kind is { } command)
        {
            var moved = await grains.TransitionLiveAsync(tenant, liveId, new LiveCommand(command, Caller.TokenSubject(user)));
            if (!moved.IsSuccess)
            {
                return Errors.Result(moved.Error!);
            }
        }

        var live = await grains.Get<ILiveGrain>(liveId).GetAsync(tenant);
        return live.IsSuccess ? Ok(Broadcast(number, live.Value!, StreamNumberOf(live.Value!.RoomId))) : Errors.Result(live.Error!);
    }

    public static async Task<Results<NoContent, JsonHttpResult<JsonObject>>> DeleteBroadcastAsync(string broadcastId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.Tenant();
        if (await ResolveBroadcastAsync(grains, tenant, broadcastId) is not ({ } number, { } liveId))
        {
            return NotFound("Broadcast");
        }

        var live = await grains.Get<ILiveGrain>(liveId).GetAsync(tenant);
        if (live.Value is { Status: not LiveStatus.Ended })
        {
            var ended = await grains.TransitionLiveAsync(tenant, liveId, new LiveCommand(LiveCommandKind.End, Caller.TokenSubject(user)));
            if (!ended.IsSuccess && ended.Error!.Code != DomainErrorCode.InvalidTransition)
            {
                return Errors.Result(ended.Error!);
            }
        }

        await new GcoreIds(grains, tenant).UnlinkAsync(GcoreIds.Broadcast, number);
        return TypedResults.NoContent();
    }

    public static JsonObject Stream(long number, string? name, StreamDto s, IngestOptions ingest, string? key = null)
    {
        var urls = StreamResource.From(s, ingest, key);
        return new JsonObject
        {
            ["id"] = number,
            ["name"] = name,
            ["active"] = s.Enabled,
            ["live"] = s.Status == StreamStatus.Connected,
            ["backup_live"] = false,
            // Gcore records only while media arrives: an interruption stops the recording (the next publish is a new file).
            ["recording"] = s.RecordingActive && s.Status == StreamStatus.Connected,
            ["auto_record"] = s.Recording == RecordingMode.Auto,

            // The key is shown at creation and on reuse (a new one: LiveGrains stores only its hash); other reads have no push URL.
            ["push_url"] = key is null ? null : $"{urls.RtmpUrl}/{key}",
            ["backup_push_url"] = null,
            ["push_url_srt"] = key is null ? null : urls.SrtUrl,
            ["backup_push_url_srt"] = null,
            ["push_url_whip"] = urls.WhipUrl,
            ["transcoding_enabled"] = false,
            ["transcoded_qualities"] = new JsonArray(),
            ["transcoding_speed"] = null,
            ["rtmp_play_url"] = new JsonArray(),
            ["created_at"] = CompatJson.Rfc3339Millis(s.CreatedAt),
        };
    }

    public static JsonObject Broadcast(long number, LiveDto live, long? streamNumber) => new()
    {
        ["id"] = number,
        ["name"] = live.Title,
        ["status"] = Status(live.Status),
        ["stream_ids"] = streamNumber is { } n ? new JsonArray(n) : new JsonArray(),
        ["share_url"] = "",
        ["custom_iframe_url"] = "",
        ["show_dvr_after_finish"] = false,
        ["pending_message"] = null,
        ["ad_id"] = null,
    };

    /// <summary>pending (scheduled or ready), live, paused, finished.</summary>
    public static string Status(LiveStatus status) => status switch
    {
        LiveStatus.Scheduled or LiveStatus.Ready => "pending",
        LiveStatus.Live => "live",
        LiveStatus.Paused => "paused",
        _ => "finished",
    };

    /// <summary>A Gcore video (<see cref="GcoreVideos"/>), with its file once the media server finished it.</summary>
    private static async Task<JsonObject> VideoAsync(
        IGrainFactory grains, string tenant, long number, long streamNumber, StreamDto stream, string key, DateTimeOffset connectedAt, DateTimeOffset now)
    {
        var file = await new GcoreIds(grains, tenant).FileOfAsync(key) is { } videoId
            ? (await grains.Get<IVideoGrain>(videoId).GetAsync(tenant)).Value
            : null;
        var sessions = GcoreVideos.Sessions(stream, connectedAt, file?.CreatedAt ?? now);
        return GcoreVideos.Build(number, streamNumber, await NameAsync(grains, tenant, stream.RoomId), connectedAt, sessions, file, now);
    }

    private static string RoomOf(long streamNumber) => "gcore-stream-" + streamNumber.ToString(CultureInfo.InvariantCulture);

    private static long? StreamNumberOf(string roomId) =>
        roomId.StartsWith("gcore-stream-", StringComparison.Ordinal) && long.TryParse(roomId["gcore-stream-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : null;

    private static async Task<string?> NameAsync(IGrainFactory grains, string tenant, string roomId) =>
        (await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, roomId)).GetAsync()).Value?.Title;

    private static async Task<(long? Number, string? Id)> ResolveStreamAsync(IGrainFactory grains, string tenant, string streamId) =>
        TryNumber(streamId, out var n) ? (n, await new GcoreIds(grains, tenant).ResolveAsync(GcoreIds.Stream, n)) : (null, null);

    private static async Task<(long? Number, string? Id)> ResolveBroadcastAsync(IGrainFactory grains, string tenant, string broadcastId) =>
        TryNumber(broadcastId, out var n) ? (n, await new GcoreIds(grains, tenant).ResolveAsync(GcoreIds.Broadcast, n)) : (null, null);

    private static bool TryNumber(string text, out long number) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number > 0 && text.Length <= 18;

    /// <summary>The body's <paramref name="wrapper"/> object (<c>{"stream": {...}}</c>, as the tutorial sends it), or the body itself.</summary>
    private static async Task<(JsonElement? Body, JsonHttpResult<JsonObject>? Invalid)> ReadAsync(HttpRequest request, string wrapper)
    {
        var (body, malformed) = await CompatJson.ReadBodyAsync(request);
        if (malformed)
        {
            return (null, Errors.Result(StatusCodes.Status400BadRequest, "validation_failed", "The body must be a JSON object."));
        }

        if (body.Member(wrapper) is { } inner)
        {
            return inner.ValueKind == JsonValueKind.Object ? (inner, null) : (null, Invalid(wrapper, "Must be an object."));
        }

        return (body, null);
    }

    private static JsonHttpResult<JsonObject>? Bool(JsonElement? body, string field, out bool? value)
    {
        value = null;
        if (body.Member(field) is not { } member)
        {
            return null;
        }

        if (member.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            value = member.GetBoolean();
            return null;
        }

        return Invalid(field, "Must be a boolean.");
    }

    private static JsonHttpResult<JsonObject> Ok(JsonObject body) => TypedResults.Json(body, CompatJson.Options);

    private static JsonHttpResult<JsonObject> NotFound(string what) => Errors.Result(StatusCodes.Status404NotFound, "not_found", $"{what} not found.");

    private static JsonHttpResult<JsonObject> Invalid(string field, string message) =>
        Errors.Result(StatusCodes.Status400BadRequest, "validation_failed", $"{field}: {message}");

    /// <summary>Gcore's error body: <c>{error: message}</c>.</summary>
    private sealed class GcoreErrors : ICompatErrors
    {
        public JsonObject Body(int status, string code, string message) => new() { ["error"] = message };
    }
}
