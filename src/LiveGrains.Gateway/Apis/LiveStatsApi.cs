using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

/// <summary>Body of <c>POST /v1/lives/{live_id}/activity</c>.</summary>
public sealed record ActivityBody(
    string[]? Joins = null,
    string[]? Heartbeats = null,
    string[]? Leaves = null,
    long? Likes = null,
    long? ChatMessages = null);

/// <summary>Body of <c>/likes</c> and <c>/chat-messages</c>.</summary>
public sealed record CountBody(int? Count = null);

/// <summary>
/// The 202 answer to activity: items counted, and items refused by the live's settings (joins above its join limit,
/// chat messages while its chat is disabled).
/// </summary>
public sealed record ActivityAccepted(int Accepted, int Rejected = 0);

/// <summary>Presence, counters and live statistics (api.md, "Live statistics").</summary>
public static class LiveStatsApi
{
    public const int MaxIdsPerRequest = 10_000;
    public const int MaxCountPerRequest = 1_000;
    public const long MaxBatchCounter = 1_000_000;

    private enum ViewerAction
    {
        Join,
        Heartbeat,
        Leave,
    }

    public static RouteGroupBuilder MapLiveStatsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/lives").WithTags("Live statistics").RequireAuthorization();
        api.MapPost("/{liveId}/viewers/{viewerId}/join", (string liveId, string viewerId, ClaimsPrincipal user, IGrainFactory grains) =>
                ViewerAsync(liveId, viewerId, ViewerAction.Join, user, grains))
            .WithName("JoinLive").WithSummary("A viewer starts watching (a second join of a present viewer changes nothing).");
        api.MapPost("/{liveId}/viewers/{viewerId}/heartbeat", (string liveId, string viewerId, ClaimsPrincipal user, IGrainFactory grains) =>
                ViewerAsync(liveId, viewerId, ViewerAction.Heartbeat, user, grains))
            .WithName("HeartbeatLive").WithSummary("A viewer is still watching; without one for Stats:ViewerTimeoutSeconds it leaves.");
        api.MapPost("/{liveId}/viewers/{viewerId}/leave", (string liveId, string viewerId, ClaimsPrincipal user, IGrainFactory grains) =>
                ViewerAsync(liveId, viewerId, ViewerAction.Leave, user, grains))
            .WithName("LeaveLive").WithSummary("A viewer stops watching.");
        api.MapPost("/{liveId}/activity", RecordActivityAsync)
            .WithName("RecordActivity").WithSummary("Batch joins, heartbeats, leaves, likes and chat messages (up to 10,000 ids).");
        api.MapPost("/{liveId}/likes", (string liveId, CountBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
                CountAsync(liveId, body, likes: true, user, grains))
            .WithName("LikeLive").WithSummary("Adds 1..1000 likes.");
        api.MapPost("/{liveId}/chat-messages", (string liveId, CountBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
                CountAsync(liveId, body, likes: false, user, grains))
            .WithName("CountChatMessages").WithSummary("Counts 1..1000 chat messages.");
        api.MapGet("/{liveId}/stats", GetStatsAsync)
            .WithName("GetLiveStats").WithSummary("Viewer, peak, unique, view, like and chat counts and on-air duration.");
        api.MapLiveEventsApi();
        return api;
    }

    public static async Task<Results<Ok<StatsDto>, ProblemHttpResult>> GetStatsAsync(string liveId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator().LiveId("live_id", liveId);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        return RoomsApi.Ok(await grains.Get<ILiveStatsGrain>(liveId).GetStatsAsync(user.Tenant()));
    }

    public static Task<Results<Accepted<ActivityAccepted>, ProblemHttpResult>> RecordActivityAsync(
        string liveId, ActivityBody? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        body ??= new ActivityBody();
        var check = new RequestValidator()
            .LiveId("live_id", liveId)
            .Range("likes", body.Likes, 0, MaxBatchCounter)
            .Range("chat_messages", body.ChatMessages, 0, MaxBatchCounter);
        var ids = (body.Joins?.Length ?? 0) + (body.Heartbeats?.Length ?? 0) + (body.Leaves?.Length ?? 0);
        if (ids > MaxIdsPerRequest)
        {
            check.Add("joins", $"At most {MaxIdsPerRequest} ids in joins, heartbeats and leaves together (got {ids}).");
        }
        else
        {
            ViewerIds(check, "joins", body.Joins);
            ViewerIds(check, "heartbeats", body.Heartbeats);
            ViewerIds(check, "leaves", body.Leaves);
        }

        if (!check.IsValid)
        {
            return Task.FromResult<Results<Accepted<ActivityAccepted>, ProblemHttpResult>>(check.Problem);
        }

        return RecordAsync(liveId, new ActivityRequest(body.Joins, body.Heartbeats, body.Leaves, body.Likes ?? 0, body.ChatMessages ?? 0), user, grains, batch: true);
    }

    private static Task<Results<Accepted<ActivityAccepted>, ProblemHttpResult>> ViewerAsync(
        string liveId, string viewerId, ViewerAction action, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator().LiveId("live_id", liveId);
        if (!Ids.IsValidViewerId(viewerId))
        {
            check.Add("viewer_id", ViewerIdRule);
        }

        if (!check.IsValid)
        {
            return Task.FromResult<Results<Accepted<ActivityAccepted>, ProblemHttpResult>>(check.Problem);
        }

        string[] one = [viewerId];
        var activity = action switch
        {
            ViewerAction.Join => new ActivityRequest(Joins: one),
            ViewerAction.Heartbeat => new ActivityRequest(Heartbeats: one),
            _ => new ActivityRequest(Leaves: one),
        };
        return RecordAsync(liveId, activity, user, grains);
    }

    private static Task<Results<Accepted<ActivityAccepted>, ProblemHttpResult>> CountAsync(
        string liveId, CountBody? body, bool likes, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator()
            .LiveId("live_id", liveId)
            .Range("count", body?.Count, 1, MaxCountPerRequest);
        if (!check.IsValid)
        {
            return Task.FromResult<Results<Accepted<ActivityAccepted>, ProblemHttpResult>>(check.Problem);
        }

        var count = body?.Count ?? 1;
        var activity = likes ? new ActivityRequest(Likes: count) : new ActivityRequest(ChatMessages: count);
        return RecordAsync(liveId, activity, user, grains);
    }

    private static async Task<Results<Accepted<ActivityAccepted>, ProblemHttpResult>> RecordAsync(
        string liveId, ActivityRequest activity, ClaimsPrincipal user, IGrainFactory grains, bool batch = false)
    {
        var result = await grains.Get<ILiveActivityGrain>(liveId).RecordAsync(user.Tenant(), activity);
        if (!result.IsSuccess)
        {
            return Problems.From(result.Error!);
        }

        // A batch reports what its live's settings refused; a single join, heartbeat or chat call is refused outright.
        var receipt = result.Value!;
        if (!batch && receipt.RejectedJoins > 0)
        {
            return Problems.From(new DomainError(DomainErrorCode.JoinLimitReached, "The live has reached its join limit (effective_max_join_limit)."));
        }

        if (!batch && receipt.RejectedChatMessages > 0)
        {
            return Problems.From(new DomainError(DomainErrorCode.ChatDisabled, "Chat is disabled on this live (effective_chat_enabled is false)."));
        }

        return TypedResults.Accepted((string?)null, new ActivityAccepted(receipt.Accepted, receipt.Rejected));
    }

    private const string ViewerIdRule = "Must be 1-128 characters of A-Z, a-z, 0-9, '_', '.', '-'.";

    private static void ViewerIds(RequestValidator check, string field, string[]? ids)
    {
        if (ids is null)
        {
            return;
        }

        for (var i = 0; i < ids.Length; i++)
        {
            if (!Ids.IsValidViewerId(ids[i]))
            {
                check.Add($"{field}[{i}]", ViewerIdRule);
                return;
            }
        }
    }
}
