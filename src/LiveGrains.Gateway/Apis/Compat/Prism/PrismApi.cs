using System.Security.Claims;
using System.Text.Json.Nodes;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Apis.Compat.Prism;

/// <summary>
/// NAVER PRISM Live Studio's live API (seed 002) under <c>/compat/prism</c>: start, end and read a live by its id, in
/// PRISM's <c>{success, errorCode, errorName, message, data}</c> envelope, with <c>x-prism-access-token</c> carrying a
/// LiveGrains API key or host token. A PRISM live is a LiveGrains live (the same id); a PRISM channel is its room.
/// </summary>
public static class PrismApi
{
    public const string Scheme = "Prism";
    public const string Policy = "compat:prism";
    public const string TokenHeader = "x-prism-access-token";

    public static readonly ICompatErrors Errors = new PrismErrors();

    public static RouteGroupBuilder MapPrismApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/compat/prism/prism/v1/service/live").WithTags("Compat: PRISM").RequireAuthorization(Policy).WithMetadata(Errors);
        api.MapPut("/{liveId}/start", StartAsync).WithName("PrismStartLive")
            .WithSummary("PRISM start: the live goes ON_AIR; a live on air on the same channel is closed forcibly.");
        api.MapPut("/{liveId}/end", EndAsync).WithName("PrismEndLive").WithSummary("PRISM end: the live goes to END.");
        api.MapGet("/{liveId}", GetAsync).WithName("PrismGetLive").WithSummary("A PRISM live with its liveStat.");
        return api;
    }

    public static async Task<JsonHttpResult<JsonObject>> StartAsync(
        string liveId, ClaimsPrincipal user, IGrainFactory grains, IOptions<CompatOptions> options)
    {
        if (!Ids.IsValidLiveId(liveId))
        {
            return Errors.Result(DomainError.NotFound("Live"));
        }

        var tenant = user.Tenant();
        var command = new LiveCommand(LiveCommandKind.Start, Caller.TokenSubject(user));
        var result = await grains.TransitionLiveAsync(tenant, liveId, command);
        if (result.Error?.Code == DomainErrorCode.LiveAlreadyActive)
        {
            // PRISM closes the live on air on the same channel forcibly, whatever the room's takeover policy: the active
            // live ends as superseded (each step decided by the room), then the start is asked again.
            Ids.TryGetRoomOfLive(liveId, out var roomId);
            var room = await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, roomId)).GetAsync();
            if (room.Value?.ActiveLiveId is { } active && active != liveId)
            {
                await grains.TransitionLiveAsync(tenant, active, new LiveCommand(LiveCommandKind.End, command.By, EndReason.Superseded));
            }

            result = await grains.TransitionLiveAsync(tenant, liveId, command);
        }
        else if (result.Error?.Code == DomainErrorCode.InvalidTransition
            && await grains.Get<ILiveGrain>(liveId).GetAsync(tenant) is { IsSuccess: true, Value.Status: LiveStatus.Live or LiveStatus.Paused } onAir)
        {
            // A repeated start of a live already on air is answered with the live as it is (a client retrying after a timeout).
            result = onAir;
        }

        return await RespondAsync(result, tenant, grains, options.Value, reread: true);
    }

    public static async Task<JsonHttpResult<JsonObject>> EndAsync(
        string liveId, ClaimsPrincipal user, IGrainFactory grains, IOptions<CompatOptions> options)
    {
        if (!Ids.IsValidLiveId(liveId))
        {
            return Errors.Result(DomainError.NotFound("Live"));
        }

        var tenant = user.Tenant();
        var result = await grains.TransitionLiveAsync(tenant, liveId, new LiveCommand(LiveCommandKind.End, Caller.TokenSubject(user)));
        return await RespondAsync(result, tenant, grains, options.Value, reread: true);
    }

    public static async Task<JsonHttpResult<JsonObject>> GetAsync(
        string liveId, ClaimsPrincipal user, IGrainFactory grains, IOptions<CompatOptions> options)
    {
        if (!Ids.IsValidLiveId(liveId))
        {
            return Errors.Result(DomainError.NotFound("Live"));
        }

        var tenant = user.Tenant();
        return await RespondAsync(await grains.Get<ILiveGrain>(liveId).GetAsync(tenant), tenant, grains, options.Value);
    }

    private static async Task<JsonHttpResult<JsonObject>> RespondAsync(
        Result<LiveDto> result, string tenant, IGrainFactory grains, CompatOptions options, bool reread = false)
    {
        if (result.IsSuccess && reread && await grains.Get<ILiveGrain>(result.Value!.LiveId).GetAsync(tenant) is { IsSuccess: true } read)
        {
            // A transition answers with the lifecycle; the read adds the live statistics every dialect shows alike.
            result = read;
        }

        if (!result.IsSuccess)
        {
            return Errors.Result(result.Error!);
        }

        var live = result.Value!;
        var title = live.Title;
        if (string.IsNullOrEmpty(title))
        {
            // PRISM: "a service without live titles passes the channel name".
            var room = await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, live.RoomId)).GetAsync();
            title = room.Value?.Title is { Length: > 0 } roomTitle ? roomTitle : live.RoomId;
        }

        // Before the start PRISM has no statistics yet (the seed shows nulls).
        var stats = live.Status == LiveStatus.Scheduled || live.Status == LiveStatus.Ready ? null : live.Stats;
        return TypedResults.Json(new JsonObject
        {
            ["success"] = true,
            ["errorCode"] = 0,
            ["errorName"] = null,
            ["message"] = null,
            ["data"] = Dto(live, title, stats, options),
        }, CompatJson.Options);
    }

    public static JsonObject Dto(LiveDto live, string title, StatsDto? stats, CompatOptions options) => new()
    {
        ["liveId"] = live.LiveId,
        ["title"] = title,
        ["description"] = live.Description,
        ["reservedAt"] = CompatJson.Iso8601Offset(live.ScheduledStartTime ?? live.CreatedAt),
        ["startAt"] = CompatJson.Iso8601Offset(live.StartedAt),
        ["rtmpPath"] = options.RtmpBaseUrl,
        ["status"] = Status(live.Status),
        ["liveLink"] = options.WatchUrl(live.RoomId, live.LiveId),
        ["scope"] = live.Visibility.ToString().ToUpperInvariant(),
        ["liveStat"] = new JsonObject
        {
            ["viewCount"] = stats?.ViewCount,
            ["viewerCount"] = stats?.ViewerCount,
            ["likeCount"] = stats?.LikeCount,
            ["chatCount"] = stats?.ChatMessageCount,
        },
    };

    /// <summary>RESERVED until it starts, ON_AIR while on air (a paused live is still on air for PRISM), END after.</summary>
    public static string Status(LiveStatus status) => status switch
    {
        LiveStatus.Scheduled or LiveStatus.Ready => "RESERVED",
        LiveStatus.Live or LiveStatus.Paused => "ON_AIR",
        _ => "END",
    };

    /// <summary>PRISM's basic response format with <c>success: false</c>; <c>errorName</c> is LiveGrains' code in upper case.</summary>
    private sealed class PrismErrors : ICompatErrors
    {
        public JsonObject Body(int status, string code, string message) => new()
        {
            ["success"] = false,
            ["errorCode"] = status,
            ["errorName"] = code.ToUpperInvariant(),
            ["message"] = message,
            ["data"] = null,
        };
    }
}
