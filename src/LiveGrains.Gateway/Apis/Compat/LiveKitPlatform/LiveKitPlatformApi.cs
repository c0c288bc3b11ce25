using System.Security.Claims;
using System.Text.Json.Nodes;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Apis.Compat.LiveKitPlatform;

/// <summary>
/// The LiveKit-based live platform's API (seed 001) under <c>/compat/livekit-platform</c>: go_live on a session (host
/// only), read a session and a room, in its <c>{success, data, timestamp}</c> envelope, with a Bearer API key or host
/// token. A session is a LiveGrains live (the same id), a room is a room; <c>active_session_id</c> is the room's active
/// live.
/// </summary>
public static class LiveKitPlatformApi
{
    public const string Scheme = "LiveKitPlatform";
    public const string Policy = "compat:livekit-platform";

    public static readonly ICompatErrors Errors = new LiveKitPlatformErrors();

    public static RouteGroupBuilder MapLiveKitPlatformApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/compat/livekit-platform").WithTags("Compat: LiveKit-based platform").RequireAuthorization(Policy).WithMetadata(Errors);
        api.MapPost("/sessions/{liveId}/go_live", GoLiveAsync).WithName("LiveKitPlatformGoLive")
            .WithSummary("Host only: starts the session, with a LiveKit token for the host and the room's ingest URLs.");
        api.MapGet("/sessions/{liveId}", GetSessionAsync).WithName("LiveKitPlatformGetSession").WithSummary("A session with its room and preset.");
        api.MapGet("/rooms/{roomId}", GetRoomAsync).WithName("LiveKitPlatformGetRoom").WithSummary("A room with its active_session_id.");
        return api;
    }

    public static async Task<JsonHttpResult<JsonObject>> GoLiveAsync(
        string liveId, ClaimsPrincipal user, IGrainFactory grains, IOptions<CompatOptions> options, TimeProvider time)
    {
        if (!Ids.IsValidLiveId(liveId))
        {
            return Errors.Result(DomainError.NotFound("Session"));
        }

        // Host only is the access policy's lifecycle rule (a token's sub must be the room's host or a co-host); API keys may.
        var tenant = user.Tenant();
        var started = await grains.TransitionLiveAsync(tenant, liveId, new LiveCommand(LiveCommandKind.Start, Caller.TokenSubject(user)));
        if (!started.IsSuccess)
        {
            return Errors.Result(started.Error!);
        }

        var (live, room) = await ReadAsync(grains, tenant, liveId);
        if (live is null || room is null)
        {
            return Errors.Result(DomainError.NotFound("Session"));
        }

        var compat = options.Value;
        var stream = await grains.Get<ITenantListingGrain>(tenant).ListStreamsAsync(room.RoomId, roomMustExist: false, 1, null) is { IsSuccess: true } page
            ? page.Value!.Items.FirstOrDefault()
            : null;
        var identity = Caller.TokenSubject(user) ?? room.HostId ?? "host";
        var data = new JsonObject
        {
            ["session"] = Session(live, room, tenant),
            ["livekit_token"] = compat.LiveKit.IsConfigured
                ? LiveKitAccessTokens.Create(compat.LiveKit, identity, room.RoomId, canPublish: true, time.GetUtcNow())
                : null,

            // The stream key is shown once, when the stream is created (LiveGrains keeps only its hash), so it is null here.
            ["rtmp"] = stream is null ? null : new JsonObject
            {
                ["ingress_id"] = stream.StreamId,
                ["url"] = compat.RtmpBaseUrl,
                ["stream_key"] = null,
            },
            ["rtmp_setup"] = stream is null ? null : new JsonObject
            {
                ["server"] = compat.RtmpBaseUrl,
                ["stream_key"] = null,
                ["instructions"] = new JsonObject
                {
                    ["step1"] = "In your encoder (OBS: Settings > Stream), choose a custom service.",
                    ["step2"] = $"Set the server to {compat.RtmpBaseUrl}.",
                    ["step3"] = $"Set the stream key to the key of stream {stream.StreamId} (shown when it was created or rotated), then start streaming.",
                },
            },
            ["whip_url"] = stream is null ? null : $"{compat.WhipBaseUrl.TrimEnd('/')}/{stream.StreamId}/whip",
        };
        return Envelope(data, time);
    }

    public static async Task<JsonHttpResult<JsonObject>> GetSessionAsync(string liveId, ClaimsPrincipal user, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsValidLiveId(liveId))
        {
            return Errors.Result(DomainError.NotFound("Session"));
        }

        var tenant = user.Tenant();
        var (live, room) = await ReadAsync(grains, tenant, liveId);
        return live is null || room is null ? Errors.Result(DomainError.NotFound("Session")) : Envelope(Session(live, room, tenant), time);
    }

    public static async Task<JsonHttpResult<JsonObject>> GetRoomAsync(string roomId, ClaimsPrincipal user, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsValidClientId(roomId))
        {
            return Errors.Result(DomainError.NotFound("Room"));
        }

        var tenant = user.Tenant();
        var room = await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, roomId)).GetAsync();
        return room.IsSuccess ? Envelope(Room(room.Value!, tenant), time) : Errors.Result(room.Error!);
    }

    private static async Task<(LiveDto? Live, RoomDto? Room)> ReadAsync(IGrainFactory grains, string tenant, string liveId)
    {
        var live = await grains.Get<ILiveGrain>(liveId).GetAsync(tenant);
        if (!live.IsSuccess)
        {
            return (null, null);
        }

        var room = await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, live.Value!.RoomId)).GetAsync();
        return (live.Value, room.Value);
    }

    private static JsonHttpResult<JsonObject> Envelope(JsonNode data, TimeProvider time) =>
        TypedResults.Json(new JsonObject
        {
            ["success"] = true,
            ["data"] = data,
            ["timestamp"] = time.GetUtcNow().ToUnixTimeMilliseconds(),
        }, CompatJson.Options);

    public static JsonObject Session(LiveDto live, RoomDto room, string tenant) => new()
    {
        ["id"] = live.LiveId,
        ["room_id"] = live.RoomId,
        ["room"] = Room(room, tenant),
        ["preset"] = DefaultPreset(live),
        ["title"] = live.Title ?? room.Title,
        ["description"] = live.Description,
        ["status"] = Status(live.Status),
        ["mode"] = "rtmp",
        ["started_at"] = CompatJson.Rfc3339Seconds(live.StartedAt),
        ["ended_at"] = CompatJson.Rfc3339Seconds(live.EndedAt),
        ["duration"] = live.DurationSeconds,
        ["scheduled_start_time"] = CompatJson.Rfc3339Seconds(live.ScheduledStartTime),
        ["viewer_count"] = live.Stats.ViewerCount,
        ["max_viewers"] = live.Stats.PeakViewerCount,
        ["recording_enabled"] = false,
        ["hls_url"] = null,
        ["chat_enabled_override"] = null,
        ["stage_enabled_override"] = null,
        ["max_join_limit_override"] = null,
        ["effective_chat_enabled"] = true,
        ["effective_stage_enabled"] = true,
        ["effective_max_join_limit"] = null,
        ["created_at"] = CompatJson.Rfc3339Seconds(live.CreatedAt),
        ["updated_at"] = CompatJson.Rfc3339Seconds(live.UpdatedAt ?? live.EndedAt ?? live.StartedAt ?? live.CreatedAt),
    };

    public static JsonObject Room(RoomDto room, string tenant) => new()
    {
        ["id"] = room.RoomId,
        ["host_id"] = room.HostId,
        ["host"] = room.HostId is null ? null : new JsonObject
        {
            ["id"] = room.HostId,
            ["external_user_id"] = room.HostId,
            ["organization_id"] = tenant,
            ["email"] = null,
            ["username"] = room.HostId,
            ["role"] = "host",
            ["is_active"] = true,
            ["created_at"] = CompatJson.Rfc3339Seconds(room.CreatedAt),
        },
        ["library_id"] = null,
        ["title"] = room.Title,
        ["description"] = room.Description,
        ["analytics"] = null,
        ["active_session_id"] = room.ActiveLiveId,
        ["created_at"] = CompatJson.Rfc3339Seconds(room.CreatedAt),
        ["updated_at"] = CompatJson.Rfc3339Seconds(room.UpdatedAt),
    };

    /// <summary>
    /// The platform's preset as LiveGrains' defaults (api.md, "Presets": chat on, no join limit, no recording). Presets
    /// as resources are not served by this tree yet, so every session shows the defaults it really runs with.
    /// </summary>
    private static JsonObject DefaultPreset(LiveDto live)
    {
        var preset = new JsonObject
        {
            ["id"] = "default",
            ["user_id"] = null,
            ["library_id"] = null,
            ["name"] = "Default",
            ["type"] = "rtmp",
            ["stage_enabled"] = true,
            ["max_join_limit"] = null,
            ["chat_enabled"] = true,
            ["poll_enabled"] = false,
            ["viewer_count_visible"] = true,
            ["primary_color"] = null,
            ["logo"] = null,
            ["logo_destination_url"] = null,
        };
        foreach (var permission in Permissions)
        {
            // LiveGrains has no polls: everything else a role may do, it may.
            preset[permission] = !permission.Contains("poll", StringComparison.Ordinal);
        }

        preset["recording_enabled"] = false;
        preset["is_default"] = true;
        preset["created_at"] = CompatJson.Rfc3339Seconds(live.CreatedAt);
        preset["updated_at"] = CompatJson.Rfc3339Seconds(live.CreatedAt);
        return preset;
    }

    private static readonly string[] Permissions =
    [
        "host_add_co_host", "host_camera_enabled", "host_screen_share", "host_chat_send_text", "host_chat_send_file",
        "host_chat_receive_message", "host_poll_create", "host_poll_vote", "host_poll_view", "onstage_camera_enabled",
        "onstage_screen_share", "onstage_viewer_view", "audience_stage_join_request", "audience_can_see_participants",
        "audience_chat_send_text", "audience_chat_send_file", "audience_chat_receive_message", "audience_poll_create",
        "audience_poll_vote", "audience_poll_view", "moderator_manage_stage", "moderator_manage_chat", "moderator_manage_poll",
    ];

    /// <summary>scheduled (scheduled or ready), live (live or paused), ended.</summary>
    public static string Status(LiveStatus status) => status switch
    {
        LiveStatus.Scheduled or LiveStatus.Ready => "scheduled",
        LiveStatus.Live or LiveStatus.Paused => "live",
        _ => "ended",
    };

    /// <summary>The platform's failure envelope: <c>{success: false, error: {code, message}, timestamp}</c>.</summary>
    private sealed class LiveKitPlatformErrors : ICompatErrors
    {
        public JsonObject Body(int status, string code, string message) => new()
        {
            ["success"] = false,
            ["error"] = new JsonObject { ["code"] = code, ["message"] = message },
            // An error may be written by shared middleware with no clock at hand; the wall clock is what clients compare it to.
            ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        };
    }
}
