using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Apis.Compat.Fourthwall;

/// <summary>
/// Fourthwall's streaming status API (seed 000) under <c>/compat/fourthwall</c>: <c>PUT /open-api/v1.0/streaming/start</c>
/// and <c>/stop</c> with HTTP Basic auth (the LiveGrains API key as the password). The shop is the tenant
/// (<c>shopId</c>); it streams in one room (<c>Compat:Fourthwall:RoomId</c>); its services are that room's status-only
/// Twitch destinations (<c>/v1/rooms/{room_id}/destinations</c>), ONLINE exactly while the room has a live on air. Start is a status set: it goes live only when
/// nothing is on air, so repeating it changes nothing.
/// </summary>
public static class FourthwallApi
{
    public const string Scheme = "Fourthwall";
    public const string Policy = "compat:fourthwall";

    public static readonly ICompatErrors Errors = new FourthwallErrors();

    /// <summary>Services one call may announce (a room holds at most <see cref="DestinationLimits.MaxPerRoom"/> destinations).</summary>
    public const int MaxServices = 16;

    public static RouteGroupBuilder MapFourthwallApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/compat/fourthwall/open-api/v1.0/streaming").WithTags("Compat: Fourthwall").RequireAuthorization(Policy).WithMetadata(Errors);
        api.MapPut("/start", StartAsync).WithName("FourthwallStartStreaming")
            .WithSummary("Fourthwall: sets streaming status to started (ONLINE) for the given services; the shop's room goes live if it is not.");
        api.MapPut("/stop", StopAsync).WithName("FourthwallStopStreaming")
            .WithSummary("Fourthwall: sets streaming status to stopped (OFFLINE); the shop's live ends.");
        return api;
    }

    /// <summary>The password of <c>Authorization: Basic base64(user:password)</c>; the user name is not used.</summary>
    public static string? CredentialOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || header.Length > CredentialValidator.MaxCredentialLength * 2)
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? "" : decoded[(colon + 1)..];
        }
        catch (FormatException)
        {
            return "";
        }
    }

    public static async Task<JsonHttpResult<JsonObject>> StartAsync(
        ClaimsPrincipal user, IGrainFactory grains, HttpRequest request, IOptions<CompatOptions> options)
    {
        var (services, invalid) = await ReadServicesAsync(request, required: true);
        if (invalid is not null)
        {
            return invalid;
        }

        var tenant = user.Tenant();
        var room = grains.Get<IRoomGrain>(TenantKey.Compose(tenant, options.Value.Fourthwall.RoomId));
        if (!(await room.GetAsync()).IsSuccess)
        {
            var created = await room.CreateAsync(new CreateRoomCommand("Fourthwall shop", null, TakeoverPolicy.Takeover, RoomsApi.DefaultReconnectWindowSeconds));
            if (!created.IsSuccess && created.Error!.Code != DomainErrorCode.RoomExists)
            {
                return Errors.Result(created.Error!);
            }
        }

        if (await AnnounceAsync(room, services) is { } refused)
        {
            return Errors.Result(refused);
        }

        // One decision of the room: with a live on air it changes nothing (a paused one resumes), else it goes live.
        var live = await room.GoLiveForIngestAsync(new GoLiveCommand(null, Caller.TokenSubject(user) ?? services.FirstOrDefault()?.BroadcasterLogin));
        return live.IsSuccess ? await StatusAsync(tenant, room) : Errors.Result(live.Error!);
    }

    public static async Task<JsonHttpResult<JsonObject>> StopAsync(
        ClaimsPrincipal user, IGrainFactory grains, HttpRequest request, IOptions<CompatOptions> options)
    {
        var (services, invalid) = await ReadServicesAsync(request, required: false);
        if (invalid is not null)
        {
            return invalid;
        }

        var tenant = user.Tenant();
        var room = grains.Get<IRoomGrain>(TenantKey.Compose(tenant, options.Value.Fourthwall.RoomId));
        var current = await room.GetAsync();
        if (current.IsSuccess && services.Length > 0 && await AnnounceAsync(room, services) is { } refused)
        {
            return Errors.Result(refused);
        }

        if (current.Value?.ActiveLiveId is { } active)
        {
            var ended = await grains.TransitionLiveAsync(tenant, active, new LiveCommand(LiveCommandKind.End, Caller.TokenSubject(user)));
            if (!ended.IsSuccess && ended.Error!.Code != DomainErrorCode.InvalidTransition)
            {
                return Errors.Result(ended.Error!);
            }
        }

        return await StatusAsync(tenant, room);
    }

    /// <summary>
    /// The shop's services are its room's status-only Twitch destinations (api.md "Destinations"): each announced
    /// service is added, or updated when its login or thumbnail changed, matched by broadcaster id. An unchanged
    /// announcement writes nothing.
    /// </summary>
    private static async Task<DomainError?> AnnounceAsync(IRoomGrain room, FourthwallService[] services)
    {
        var existing = await room.ListDestinationsAsync();
        if (!existing.IsSuccess)
        {
            return existing.Error;
        }

        foreach (var service in services)
        {
            var known = existing.Value!.FirstOrDefault(d => IsService(d) && d.BroadcasterId == service.BroadcasterId);
            var result = known switch
            {
                null => await room.CreateDestinationAsync(new CreateDestinationCommand(
                    DestinationType.Twitch, null, null, service.BroadcasterId, service.BroadcasterLogin, service.ThumbnailUrl, true)),
                _ when known.BroadcasterLogin != service.BroadcasterLogin || known.ThumbnailUrl != service.ThumbnailUrl || !known.Enabled =>
                    await room.UpdateDestinationAsync(known.DestinationId, new UpdateDestinationCommand(
                        null, null, null, service.BroadcasterLogin, service.ThumbnailUrl ?? "", true)),
                _ => Result<DestinationDto>.Ok(known),
            };
            if (!result.IsSuccess)
            {
                return result.Error;
            }
        }

        return null;
    }

    /// <summary>A Fourthwall service: a status-only Twitch destination.</summary>
    private static bool IsService(DestinationDto destination) => destination.Type == DestinationType.Twitch && destination.Url is null;

    /// <summary>The services as the room's destinations show them now (no room yet: none).</summary>
    private static async Task<JsonHttpResult<JsonObject>> StatusAsync(string tenant, IRoomGrain room)
    {
        var destinations = await room.ListDestinationsAsync();
        var items = new JsonArray();
        foreach (var service in (destinations.Value ?? []).Where(IsService))
        {
            items.Add(new JsonObject
            {
                ["type"] = "TWITCH",
                ["status"] = service.Status == DestinationStatus.Online ? "ONLINE" : "OFFLINE",
                ["broadcasterId"] = service.BroadcasterId,
                ["broadcasterLogin"] = service.BroadcasterLogin,
                ["thumbnailUrl"] = service.ThumbnailUrl,
            });
        }

        return TypedResults.Json(new JsonObject { ["shopId"] = tenant, ["services"] = items }, CompatJson.Options);
    }

    private static async Task<(FourthwallService[] Services, JsonHttpResult<JsonObject>? Invalid)> ReadServicesAsync(HttpRequest request, bool required)
    {
        var (body, malformed) = await CompatJson.ReadBodyAsync(request);
        if (malformed)
        {
            return ([], Errors.Result(StatusCodes.Status400BadRequest, "validation_failed", "The body must be a JSON object."));
        }

        if (body.Member("services") is not { ValueKind: JsonValueKind.Array } array)
        {
            return required || body.Member("services") is not null
                ? ([], Invalid("services", "Required: an array of services."))
                : ([], null);
        }

        if (array.GetArrayLength() > MaxServices)
        {
            return ([], Invalid("services", $"At most {MaxServices} services."));
        }

        var services = new List<FourthwallService>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            JsonElement? service = item;
            var at = $"services[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                return ([], Invalid(at, "Must be an object."));
            }

            // The discriminator: TWITCH is the one service type the API defines.
            if (!string.Equals(service.String("type"), "TWITCH", StringComparison.Ordinal))
            {
                return ([], Invalid(at + ".type", "Required; the supported type is TWITCH."));
            }

            var id = service.String("broadcasterId");
            var login = service.String("broadcasterLogin");
            var thumbnail = service.String("thumbnailUrl");
            if (string.IsNullOrEmpty(id) || id.Length > 128)
            {
                return ([], Invalid(at + ".broadcasterId", "Required: 1-128 characters."));
            }

            if (string.IsNullOrEmpty(login) || login.Length > 128)
            {
                return ([], Invalid(at + ".broadcasterLogin", "Required: 1-128 characters."));
            }

            if (service.IsNotString("thumbnailUrl") || thumbnail is { Length: > 2048 })
            {
                return ([], Invalid(at + ".thumbnailUrl", "Must be a URL of at most 2048 characters."));
            }

            services.Add(new FourthwallService("TWITCH", id, login, thumbnail));
        }

        return ([.. services], null);
    }

    private static JsonHttpResult<JsonObject> Invalid(string field, string message) =>
        Errors.Result(StatusCodes.Status400BadRequest, "validation_failed", $"{field}: {message}");

    /// <summary>One service of a start or stop body (the seed's Service.Twitch).</summary>
    private sealed record FourthwallService(string Type, string BroadcasterId, string BroadcasterLogin, string? ThumbnailUrl);

    /// <summary>Fourthwall's error body: <c>{code, message}</c> with an upper-case code.</summary>
    private sealed class FourthwallErrors : ICompatErrors
    {
        public JsonObject Body(int status, string code, string message) => new()
        {
            ["code"] = code.ToUpperInvariant(),
            ["message"] = message,
        };
    }
}
