using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using LiveGrains.Grains;

namespace LiveGrains.Gateway.Audit;

/// <summary>
/// Records every control action (a non-GET call by a key or token, viewer activity excepted) in the tenant's
/// <see cref="IAuditLogGrain"/> once the answer is known, so refusals (403) and failures are recorded as well as
/// successes. The gateway records it because only the gateway knows the caller for every kind of action; entries go
/// through the gateway's <see cref="AuditBuffer"/>, so recording adds no round trip to the action's answer. An entry's
/// time is on <see cref="LiveGrainsClock"/>, the clock the log's retention (<c>AuditLogGrain</c>) compares it with.
/// </summary>
public sealed class AuditRecorder(RequestDelegate next, LiveGrainsClock clock, AuditBuffer buffer)
{
    /// <summary>Route parameters naming the resource an action is about, most specific first.</summary>
    private static readonly (string Parameter, string Type)[] Resources =
        [
            ("keyId", "api_key"), ("presetId", "preset"), ("webhookId", "webhook"), ("destinationId", "destination"), ("videoId", "video"),
            ("streamId", "stream"), ("liveId", "live"), ("roomId", "room"),
        ];

    public async Task InvokeAsync(HttpContext context)
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)
            || !(context.Request.Path.StartsWithSegments("/v1") || context.Request.Path.StartsWithSegments("/compat"))
            || AccessPolicy.EndpointName(context) is not { } name || AccessPolicy.ViewerActivity.Contains(name)
            || Caller.From(context.User) is not { } caller)
        {
            await next(context);
            return;
        }

        try
        {
            await next(context);
        }
        catch (Exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The exception handler (outside) answers 500 or 503; either way the action failed.
            await RecordAsync(context, caller, name, StatusCodes.Status500InternalServerError);
            throw;
        }

        await RecordAsync(context, caller, name, context.Response.StatusCode);
    }

    private ValueTask RecordAsync(HttpContext context, Caller caller, string name, int status)
    {
        var (resource, type) = ResourceOf(context);
        var outcome = status switch
        {
            < 400 => "success",
            StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden => "denied",
            _ => "failed",
        };
        // Not the request's token: an action that happened is recorded even when its caller has gone away.
        return buffer.EnqueueAsync(
            caller.Tenant,
            new AuditRecord(clock.UtcNow, new AuditActor(caller.ActorType, caller.ActorId), ActionOf(name), resource, type, outcome, status),
            CancellationToken.None);
    }

    /// <summary>The created resource (from <c>Location</c>) for a 201, else the one the route names.</summary>
    private static (string? Resource, string? Type) ResourceOf(HttpContext context)
    {
        if (context.Response.StatusCode == StatusCodes.Status201Created && context.Response.Headers.Location.ToString() is { Length: > 0 } location)
        {
            var segments = location.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (segments.Length >= 3)
            {
                return (segments[2], TypeOfCollection(segments[1]));
            }
        }

        foreach (var (parameter, type) in Resources)
        {
            if (context.Request.RouteValues[parameter] is string id)
            {
                return (id, type);
            }
        }

        var collection = context.Request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) is { Length: >= 2 } parts ? parts[1] : null;
        return (null, collection is null ? null : TypeOfCollection(collection));
    }

    private static string TypeOfCollection(string collection) => collection switch
    {
        "rooms" => "room",
        "lives" => "live",
        "streams" => "stream",
        "webhooks" => "webhook",
        "api-keys" => "api_key",
        "presets" => "preset",
        "destinations" => "destination",
        "videos" => "video",
        "tokens" => "token",
        _ => collection,
    };

    /// <summary><c>GoLive</c> -> <c>go_live</c>: the endpoint's OpenAPI operation id, as the rest of the API spells names.</summary>
    public static string ActionOf(string endpointName) =>
        System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(endpointName);
}
