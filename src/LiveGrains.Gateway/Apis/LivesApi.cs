using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using LiveGrains.Gateway.Hosting;
using LiveGrains.Gateway.Idempotency;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

public static class LivesApi
{
    public static RouteGroupBuilder MapLivesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/lives").WithTags("Lives").RequireAuthorization();
        api.MapGet("/{liveId}", GetLiveAsync).WithName("GetLive").WithSummary("Gets a live with its timestamps and statistics.");
        api.MapPatch("/{liveId}", UpdateLiveAsync).WithName("UpdateLive")
            .WithSummary("Changes a live's title, description, metadata, visibility or preset overrides (409 live_ended once it ended).");
        api.MapGet("/{liveId}/transitions", GetTransitionsAsync).WithName("GetLiveTransitions")
            .WithSummary("Every transition of the live, oldest first: when, from, to, by whom and why (the audit trail).");
        api.MapPost("/{liveId}/ready", (string liveId, TransitionRequest? body, ClaimsPrincipal user, IGrainFactory grains, HttpContext context) =>
                TransitionAsync(liveId, LiveCommandKind.Ready, body, user, grains, context))
            .WithMetadata(new DeduplicatedByRequestId())
            .WithName("ReadyLive").WithSummary("scheduled -> ready.");
        api.MapPost("/{liveId}/start", (string liveId, TransitionRequest? body, ClaimsPrincipal user, IGrainFactory grains, HttpContext context) =>
                TransitionAsync(liveId, LiveCommandKind.Start, body, user, grains, context))
            .WithMetadata(new DeduplicatedByRequestId())
            .WithName("StartLive").WithSummary("scheduled|ready -> live, obeying the room's takeover policy.");
        api.MapPost("/{liveId}/pause", (string liveId, TransitionRequest? body, ClaimsPrincipal user, IGrainFactory grains, HttpContext context) =>
                TransitionAsync(liveId, LiveCommandKind.Pause, body, user, grains, context))
            .WithMetadata(new DeduplicatedByRequestId())
            .WithName("PauseLive").WithSummary("live -> paused.");
        api.MapPost("/{liveId}/resume", (string liveId, TransitionRequest? body, ClaimsPrincipal user, IGrainFactory grains, HttpContext context) =>
                TransitionAsync(liveId, LiveCommandKind.Resume, body, user, grains, context))
            .WithMetadata(new DeduplicatedByRequestId())
            .WithName("ResumeLive").WithSummary("paused -> live.");
        api.MapPost("/{liveId}/end", (string liveId, TransitionRequest? body, ClaimsPrincipal user, IGrainFactory grains, HttpContext context) =>
                TransitionAsync(liveId, LiveCommandKind.End, body, user, grains, context))
            .WithMetadata(new DeduplicatedByRequestId())
            .WithName("EndLive").WithSummary("Any non-ended -> ended ('cancelled' if it never started).");
        api.MapPost("/{liveId}/host/enter", (string liveId, TransitionRequest? body, ClaimsPrincipal user, IGrainFactory grains) =>
                HostPresenceAsync(liveId, entered: true, body, user, grains))
            .WithName("HostEnterLive").WithSummary("Records the host entering the live (host.state 'entered'); a repeat changes nothing.");
        api.MapPost("/{liveId}/host/exit", (string liveId, TransitionRequest? body, ClaimsPrincipal user, IGrainFactory grains) =>
                HostPresenceAsync(liveId, entered: false, body, user, grains))
            .WithName("HostExitLive").WithSummary("Records the host leaving the live (host.state 'exited'); a repeat changes nothing.");
        return api;
    }

    public static async Task<Results<Ok<LiveDto>, ProblemHttpResult>> HostPresenceAsync(
        string liveId, bool entered, TransitionRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator()
            .LiveId("live_id", liveId)
            .Text("by", body?.By, RequestValidator.MaxActorLength);
        if (!check.IsValid || !Ids.TryGetRoomOfLive(liveId, out var roomId))
        {
            return check.Problem;
        }

        var room = grains.Get<IRoomGrain>(TenantKey.Compose(user.Tenant(), roomId));
        return RoomsApi.Ok(await room.SetHostPresenceAsync(liveId, entered, body?.By ?? Caller.TokenSubject(user)));
    }

    public static async Task<Results<Ok<LiveDto>, ProblemHttpResult>> GetLiveAsync(string liveId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator().LiveId("live_id", liveId);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        return RoomsApi.Ok(await grains.Get<ILiveGrain>(liveId).GetAsync(user.Tenant()));
    }

    public static async Task<Results<Ok<LiveDto>, ProblemHttpResult>> UpdateLiveAsync(
        string liveId, UpdateLiveRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        body ??= new UpdateLiveRequest();
        var check = new RequestValidator()
            .LiveId("live_id", liveId)
            .Text("title", body.Title, RequestValidator.MaxTitleLength)
            .Details(body.Description, body.Metadata, body.Visibility)
            .Overrides(body.MaxJoinLimitOverride)
            .Defined("mode", body.Mode);
        if (!check.IsValid || !Ids.TryGetRoomOfLive(liveId, out var roomId))
        {
            return check.Problem;
        }

        var room = grains.Get<IRoomGrain>(TenantKey.Compose(user.Tenant(), roomId));
        return RoomsApi.Ok(await room.UpdateLiveAsync(liveId, new UpdateLiveCommand(
            body.Title, new ResourceDetails(body.Description, body.Metadata, body.Visibility), body.Overrides, body.OverridesSet, body.Mode)));
    }

    public static async Task<Results<Ok<TransitionsResponse>, ProblemHttpResult>> GetTransitionsAsync(string liveId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator().LiveId("live_id", liveId);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await grains.Get<ILiveGrain>(liveId).GetTransitionsAsync(user.Tenant());
        return result.IsSuccess ? TypedResults.Ok(new TransitionsResponse(result.Value!)) : Problems.From(result.Error!);
    }

    public static async Task<Results<Ok<LiveDto>, ProblemHttpResult>> TransitionAsync(
        string liveId, LiveCommandKind kind, TransitionRequest? body, ClaimsPrincipal user, IGrainFactory grains, HttpContext context)
    {
        var check = new RequestValidator()
            .LiveId("live_id", liveId)
            .Text("by", body?.By, RequestValidator.MaxActorLength);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        return RoomsApi.Ok(await grains.TransitionLiveAsync(user.Tenant(), liveId, new LiveCommand(kind, body?.By ?? Caller.TokenSubject(user), RequestId: IdempotencyMiddleware.RequestIdOf(context))));
    }
}
