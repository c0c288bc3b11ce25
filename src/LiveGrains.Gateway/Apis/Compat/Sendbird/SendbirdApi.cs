using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis.Compat.Sendbird;

/// <summary>
/// Sendbird Live's live-event API (seed 003) under <c>/compat/sendbird</c>: create, read, set-ready, start and end a
/// live event, answered as <c>{live_event}</c> with epoch-millisecond timestamps and the <c>*_by</c> of every step,
/// with <c>Api-Token</c> carrying a LiveGrains API key or host token. A live event is a LiveGrains live (the same
/// id); each event created here gets a room of its own unless the body names one (<c>room_id</c>, an extension).
/// </summary>
public static class SendbirdApi
{
    public const string Scheme = "Sendbird";
    public const string Policy = "compat:sendbird";
    public const string TokenHeader = "Api-Token";

    public static readonly ICompatErrors Errors = new SendbirdErrors();

    public static RouteGroupBuilder MapSendbirdApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/compat/sendbird/v1/live-events").WithTags("Compat: Sendbird").RequireAuthorization(Policy).WithMetadata(Errors);
        api.MapPost("/", CreateAsync).WithName("SendbirdCreateLiveEvent").WithSummary("Sendbird: creates a live event (state created).");
        api.MapGet("/{liveId}", GetAsync).WithName("SendbirdGetLiveEvent").WithSummary("Sendbird: a live event.");
        api.MapPost("/{liveId}/set-ready", (string liveId, ClaimsPrincipal user, IGrainFactory grains, HttpRequest request) =>
                TransitionAsync(liveId, LiveCommandKind.Ready, user, grains, request))
            .WithName("SendbirdSetReadyLiveEvent").WithSummary("Sendbird: created -> ready.");
        api.MapPost("/{liveId}/start", (string liveId, ClaimsPrincipal user, IGrainFactory grains, HttpRequest request) =>
                TransitionAsync(liveId, LiveCommandKind.Start, user, grains, request))
            .WithName("SendbirdStartLiveEvent").WithSummary("Sendbird: created|ready -> ongoing.");
        api.MapPost("/{liveId}/end", (string liveId, ClaimsPrincipal user, IGrainFactory grains, HttpRequest request) =>
                TransitionAsync(liveId, LiveCommandKind.End, user, grains, request))
            .WithName("SendbirdEndLiveEvent").WithSummary("Sendbird: any -> ended.");
        return api;
    }

    public static async Task<JsonHttpResult<JsonObject>> CreateAsync(ClaimsPrincipal user, IGrainFactory grains, HttpRequest request, TimeProvider time)
    {
        var (body, malformed) = await CompatJson.ReadBodyAsync(request);
        if (malformed)
        {
            return Errors.Result(StatusCodes.Status400BadRequest, "validation_failed", "The body must be a JSON object.");
        }

        // Sendbird lists the users who may host the event; the first is the room's host, the others its co-hosts, so
        // host only (api.md, "Access") lets a token of any of them run the event.
        var hosts = body.Member("user_ids_for_host");
        string? host = null;
        string[]? coHosts = null;
        if (hosts is { ValueKind: JsonValueKind.Array } array)
        {
            var ids = array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : null).ToList();
            if (ids.Count == 0 || ids.Count > 1 + ResourceLimits.MaxCoHosts || ids.Any(id => !Ids.IsValidClientId(id))
                || ids.Distinct(StringComparer.Ordinal).Count() != ids.Count)
            {
                return Invalid("user_ids_for_host", $"Must hold 1-{1 + ResourceLimits.MaxCoHosts} distinct user ids of 1-64 characters of A-Z, a-z, 0-9, '_', '.', '-'.");
            }

            host = ids[0];
            coHosts = [.. ids.Skip(1).Select(id => id!)];
        }
        else if (hosts is not null)
        {
            return Invalid("user_ids_for_host", "Must be an array of user ids.");
        }

        if (Text(body, "title", RequestValidator.MaxTitleLength) is { } badTitle)
        {
            return badTitle;
        }

        if (Text(body, "description", ResourceLimits.MaxDescriptionLength) is { } badDescription)
        {
            return badDescription;
        }

        if (body.IsNotString("room_id") || (body.String("room_id") is { } named && !Ids.IsValidClientId(named)))
        {
            return Invalid("room_id", "Must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', '-'.");
        }

        Dictionary<string, string>? customItems = null;
        if (body.Member("custom_items") is { } items)
        {
            if (items.ValueKind != JsonValueKind.Object || items.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
            {
                return Invalid("custom_items", "Must be an object of string values.");
            }

            customItems = items.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
            var check = new RequestValidator().Details(null, customItems, null);
            if (!check.IsValid)
            {
                return Invalid("custom_items", $"At most {ResourceLimits.MaxMetadataKeys} items and {ResourceLimits.MaxMetadataBytes} bytes.");
            }
        }

        var tenant = user.Tenant();
        var title = body.String("title");
        var createdBy = Caller.TokenSubject(user) ?? host;
        var details = new ResourceDetails(body.String("description"), customItems, null, createdBy);
        var roomId = body.String("room_id") ?? Ids.NewRoomId(time.GetUtcNow());
        var room = grains.Get<IRoomGrain>(TenantKey.Compose(tenant, roomId));
        var existing = await room.GetAsync();
        if (!existing.IsSuccess)
        {
            // A live event has no channel in Sendbird: it gets a room of its own, whose host is the event's host.
            var created = await room.CreateAsync(new CreateRoomCommand(title, host, TakeoverPolicy.Takeover, RoomsApi.DefaultReconnectWindowSeconds,
                Details: new ResourceDetails(CreatedBy: createdBy), CoHostIds: coHosts));
            if (!created.IsSuccess && created.Error!.Code != DomainErrorCode.RoomExists)
            {
                return Errors.Result(created.Error!);
            }
        }

        var live = await room.ScheduleLiveAsync(new ScheduleLiveCommand(title, null, null, details));
        return live.IsSuccess ? await RespondAsync(grains, tenant, live.Value!.LiveId) : Errors.Result(live.Error!);
    }

    public static async Task<JsonHttpResult<JsonObject>> GetAsync(string liveId, ClaimsPrincipal user, IGrainFactory grains) =>
        Ids.IsValidLiveId(liveId) ? await RespondAsync(grains, user.Tenant(), liveId) : Errors.Result(DomainError.NotFound("Live event"));

    public static async Task<JsonHttpResult<JsonObject>> TransitionAsync(
        string liveId, LiveCommandKind kind, ClaimsPrincipal user, IGrainFactory grains, HttpRequest request)
    {
        if (!Ids.IsValidLiveId(liveId))
        {
            return Errors.Result(DomainError.NotFound("Live event"));
        }

        var (body, malformed) = await CompatJson.ReadBodyAsync(request);
        if (malformed)
        {
            return Errors.Result(StatusCodes.Status400BadRequest, "validation_failed", "The body must be a JSON object.");
        }

        if (body.IsNotString("user_id") || (body.String("user_id") is { } named && !Ids.IsValidViewerId(named)))
        {
            return Invalid("user_id", "Must be a user id.");
        }

        // Who did it: the host token's user, else the user the server names (Sendbird records *_by per step).
        var tenant = user.Tenant();
        var by = Caller.TokenSubject(user) ?? body.String("user_id");
        var result = await grains.TransitionLiveAsync(tenant, liveId, new LiveCommand(kind, by));
        return result.IsSuccess ? await RespondAsync(grains, tenant, liveId) : Errors.Result(result.Error!);
    }

    private static async Task<JsonHttpResult<JsonObject>> RespondAsync(IGrainFactory grains, string tenant, string liveId)
    {
        var live = await grains.Get<ILiveGrain>(liveId).GetAsync(tenant);
        if (!live.IsSuccess)
        {
            return Errors.Result(live.Error!);
        }

        var room = await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, live.Value!.RoomId)).GetAsync();
        return TypedResults.Json(new JsonObject { ["live_event"] = LiveEvent(live.Value!, room.Value) }, CompatJson.Options);
    }

    public static JsonObject LiveEvent(LiveDto live, RoomDto? room) => LiveEvent(live, room?.HostId, room?.CoHostIds ?? []);

    private static JsonObject LiveEvent(LiveDto live, string? hostId, string[] coHostIds) => new()
    {
        ["live_event_id"] = live.LiveId,
        ["host_type"] = "single_host",
        ["state"] = State(live.Status),
        ["created_at"] = CompatJson.EpochMs(live.CreatedAt),
        ["set_ready_at"] = CompatJson.EpochMs(live.ReadyAt),
        ["started_at"] = CompatJson.EpochMs(live.StartedAt),
        ["ended_at"] = CompatJson.EpochMs(live.EndedAt),
        ["is_host_streaming"] = false,
        ["host"] = hostId is null ? null : Host(live, hostId),
        ["created_by"] = live.CreatedBy ?? "",
        ["set_ready_by"] = live.ReadyBy ?? "",
        ["started_by"] = live.StartedBy ?? "",
        ["ended_by"] = live.EndedBy ?? "",

        // Sendbird counts durations in milliseconds; LiveGrains' on-air time excludes paused time.
        ["duration"] = live.DurationSeconds * 1000,
        ["participant_count"] = live.Stats.ViewerCount,
        ["peak_participant_count"] = live.Stats.PeakViewerCount,
        ["cumulative_participant_count"] = live.Stats.UniqueViewerCount,
        ["user_ids_for_host"] = new JsonArray((hostId is null ? coHostIds : coHostIds.Prepend(hostId)).Select(id => (JsonNode?)JsonValue.Create(id)).ToArray()),
        ["custom_items"] = Items(live.Metadata),
    };

    /// <summary>created (scheduled), ready, ongoing (live or paused: Sendbird has no pause), ended.</summary>
    public static string State(LiveStatus status) => status switch
    {
        LiveStatus.Scheduled => "created",
        LiveStatus.Ready => "ready",
        LiveStatus.Live or LiveStatus.Paused => "ongoing",
        _ => "ended",
    };

    /// <summary>
    /// The host as the room names it. Presence (entered/connected) is not tracked by LiveGrains yet, so its state and
    /// times are null rather than guessed (docs/compat.md).
    /// </summary>
    private static JsonObject Host(LiveDto live, string hostId) => new()
    {
        ["client_id"] = null,
        ["duration"] = 0,
        ["exited_at"] = null,
        ["entered_at"] = null,
        ["state"] = null,
        ["live_event_id"] = live.LiveId,
        ["host_id"] = hostId,
        ["connected_at"] = null,
        ["disconnected_at"] = null,
        ["is_audio_on"] = true,
        ["is_video_on"] = true,
        ["user"] = new JsonObject
        {
            ["user_id"] = hostId,
            ["nickname"] = "",
            ["profile_url"] = "",
            ["metadata"] = new JsonObject(),
            ["is_active"] = true,
            ["role"] = null,
        },
    };

    private static JsonObject Items(Dictionary<string, string>? metadata)
    {
        var items = new JsonObject();
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                items[key] = value;
            }
        }

        return items;
    }

    private static JsonHttpResult<JsonObject>? Text(JsonElement? body, string field, int max)
    {
        if (body.IsNotString(field))
        {
            return Invalid(field, "Must be a string.");
        }

        return body.String(field) is { } text && text.Length > max ? Invalid(field, $"At most {max} characters.") : null;
    }

    private static JsonHttpResult<JsonObject> Invalid(string field, string message) =>
        Errors.Result(StatusCodes.Status400BadRequest, "validation_failed", $"{field}: {message}");

    /// <summary>Sendbird's error body: <c>{error: true, code, message}</c> with its six-digit codes.</summary>
    private sealed class SendbirdErrors : ICompatErrors
    {
        public JsonObject Body(int status, string code, string message) => new()
        {
            ["error"] = true,
            ["code"] = Code(status, code),
            ["message"] = message,
        };

        public static int Code(int status, string code) => (status, code) switch
        {
            (400, _) => 400111,
            (401, _) => 400401,
            (403, _) => 400108,
            (404, _) => 400201,
            (409, "invalid_transition") => 400920,
            (409, _) => 400900,
            (413, _) => 400112,
            (429, _) => 500910,
            _ => 500901,
        };
    }
}
