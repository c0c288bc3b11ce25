using LiveGrains.Abstractions;

namespace LiveGrains.Gateway.Auth;

/// <summary>
/// The one place that decides whether an authenticated caller may run an endpoint (api.md, "Access"):
/// <list type="bullet">
/// <item>Scopes: <c>read</c> runs GETs only; <c>write</c> everything but key management; <c>admin</c> all. A token is
/// bound by the scope of the key that signed it.</item>
/// <item>Tokens run only the operations of <see cref="TokenOperations"/>, on the room or live their grants name; any
/// endpoint not listed there is refused to every token, so a new endpoint is closed to tokens until listed.</item>
/// <item>Host only: a token may run a room's lifecycle only if its <c>sub</c> is the room's <c>host_id</c> or one of its
/// <c>co_host_ids</c> (when the room has either). API keys are the server side and always may.</item>
/// </list>
/// Why a middleware in front of the endpoints, and not each grain checking its caller: every rule here reads only
/// the caller's credential and, for host-only, the room's host, which the room grain answers with one read-only
/// call (made only for token-driven lifecycle calls). Keeping the decision out of the grains leaves their commands
/// unchanged for the server-side callers (ingest, compat APIs) that have no token, and keeps it in one table that a
/// reviewer reads top to bottom. The price is a window between the host check and the transition in which a
/// concurrent <c>PATCH</c> of <c>host_id</c> or <c>co_host_ids</c> (itself an API-key action) is not yet seen; the grant still has to match.
/// </summary>
public sealed class AccessPolicy(RequestDelegate next)
{
    private enum Grant
    {
        Host,
        Viewer,
        HostOrViewer,
    }

    /// <summary>Lifecycle operations: host grant, and host-only when the room has a host or co-hosts.</summary>
    private sealed record Operation(Grant Grant, string Parameter, bool Lifecycle = false);

    /// <summary>What a token may do, by endpoint name (each endpoint's OpenAPI operation id).</summary>
    private static readonly Dictionary<string, Operation> TokenOperations = new(StringComparer.Ordinal)
    {
        ["GetRoom"] = new(Grant.Host, "roomId"),
        ["ListRoomLives"] = new(Grant.Host, "roomId"),
        ["GoLive"] = new(Grant.Host, "roomId", Lifecycle: true),
        ["GetLive"] = new(Grant.Host, "liveId"),
        ["GetLiveTransitions"] = new(Grant.Host, "liveId"),
        ["ReadyLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["StartLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["PauseLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["ResumeLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["EndLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["HostEnterLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["HostExitLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["GetLiveStats"] = new(Grant.HostOrViewer, "liveId"),
        ["LiveEvents"] = new(Grant.HostOrViewer, "liveId"),
        ["JoinLive"] = new(Grant.Viewer, "liveId"),
        ["HeartbeatLive"] = new(Grant.Viewer, "liveId"),
        ["LeaveLive"] = new(Grant.Viewer, "liveId"),
        ["RecordActivity"] = new(Grant.Viewer, "liveId"),
        ["LikeLive"] = new(Grant.Viewer, "liveId"),
        ["CountChatMessages"] = new(Grant.Viewer, "liveId"),

        // The seed platforms' APIs (Apis/Compat): the same rules on the same rooms and lives.
        ["PrismStartLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["PrismEndLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["PrismGetLive"] = new(Grant.Host, "liveId"),
        ["SendbirdGetLiveEvent"] = new(Grant.Host, "liveId"),
        ["SendbirdSetReadyLiveEvent"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["SendbirdStartLiveEvent"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["SendbirdEndLiveEvent"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["LiveKitPlatformGoLive"] = new(Grant.Host, "liveId", Lifecycle: true),
        ["LiveKitPlatformGetSession"] = new(Grant.Host, "liveId"),
        ["LiveKitPlatformGetRoom"] = new(Grant.Host, "roomId"),
    };

    /// <summary>Endpoints that manage keys: <c>admin</c> only.</summary>
    public static readonly HashSet<string> KeyManagement = new(StringComparer.Ordinal) { "CreateApiKey", "ListApiKeys", "DeleteApiKey" };

    /// <summary>Viewer activity: its own, larger rate-limit bucket, and not a control action for the audit log.</summary>
    public static readonly HashSet<string> ViewerActivity = new(StringComparer.Ordinal)
    {
        "JoinLive", "HeartbeatLive", "LeaveLive", "RecordActivity", "LikeLive", "CountChatMessages",
    };

    public async Task InvokeAsync(HttpContext context, IGrainFactory grains)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null
            || Caller.From(context.User) is not { } caller)
        {
            await next(context);
            return;
        }

        var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
        if (await RefusalAsync(context, caller, name, grains) is { } refusal)
        {
            // A seed platform's endpoint refuses in its platform's error shape (Apis/Compat).
            await (endpoint.Metadata.GetMetadata<Apis.Compat.ICompatErrors>() is { } compat
                ? compat.WriteAsync(context, StatusCodes.Status403Forbidden, "forbidden", refusal)
                : Problems.Write(context, StatusCodes.Status403Forbidden, "forbidden", refusal));
            return;
        }

        await next(context);
    }

    public static string? EndpointName(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;

    private static async Task<string?> RefusalAsync(HttpContext context, Caller caller, string? name, IGrainFactory grains)
    {
        var isRead = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        if (name is not null && KeyManagement.Contains(name))
        {
            if (caller.Scope != ApiKeyScope.Admin || caller.IsToken)
            {
                return "Managing API keys needs a key with the 'admin' scope.";
            }
        }
        else if (!isRead && caller.Scope == ApiKeyScope.Read)
        {
            return "This key has the 'read' scope: it may only read.";
        }

        if (!caller.IsToken)
        {
            return null;
        }

        var grants = caller.Grants!;
        if (name is null || !TokenOperations.TryGetValue(name, out var operation))
        {
            return "A token cannot do this; use an API key from your server.";
        }

        var allowed = operation.Grant switch
        {
            Grant.Host => grants.Host,
            Grant.Viewer => grants.Viewer,
            _ => grants.Host || grants.Viewer,
        };
        var target = context.Request.RouteValues[operation.Parameter] as string ?? "";
        var covered = operation.Parameter == "roomId" ? grants.CoversRoom(target) : grants.CoversLive(target);
        if (!allowed || !covered)
        {
            return "This token's grants do not allow this on this room or live.";
        }

        if (operation.Lifecycle)
        {
            var roomId = operation.Parameter == "roomId" ? target : Ids.TryGetRoomOfLive(target, out var ofLive) ? ofLive : null;
            if (roomId is not null
                && await grains.Get<IRoomGrain>(TenantKey.Compose(caller.Tenant, roomId)).GetAsync() is { IsSuccess: true, Value: { } room }
                && !room.AllowsHost(caller.ActorId))
            {
                return "Only the room's host or co-hosts may run its lives.";
            }
        }

        return null;
    }
}
