using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

public sealed record CreateDestinationRequest(
    DestinationType? Type = null,
    string? Url = null,
    string? StreamKey = null,
    string? BroadcasterId = null,
    string? BroadcasterLogin = null,
    string? ThumbnailUrl = null,
    bool? Enabled = null);

/// <summary>PATCH of a destination: absent (or null) fields stay; <c>""</c> clears one (<c>url: ""</c> makes it status only).</summary>
public sealed record UpdateDestinationRequest(
    string? Url = null,
    string? StreamKey = null,
    string? BroadcasterId = null,
    string? BroadcasterLogin = null,
    string? ThumbnailUrl = null,
    bool? Enabled = null);

/// <summary>
/// Restream destinations (api.md "Destinations", docs/ingest.md): Fourthwall's streaming services and restream targets
/// of a room. A destination's id names its room, so <c>/v1/destinations/{id}</c> routes to the room that owns it; the
/// caller's tenant is part of the room's grain key, so another tenant's destination is simply not found.
/// </summary>
public static class DestinationsApi
{
    public static IEndpointRouteBuilder MapDestinationsApi(this IEndpointRouteBuilder app)
    {
        var rooms = app.MapGroup("/v1/rooms/{roomId}/destinations").WithTags("Destinations").RequireAuthorization();
        rooms.MapPost("/", CreateDestinationAsync).WithName("CreateDestination")
            .WithSummary("Adds a restream destination to a room (the stream key is write-only); one without url is status only.");
        rooms.MapGet("/", ListDestinationsAsync).WithName("ListDestinations").WithSummary("The room's destinations and their status, oldest first.");

        var api = app.MapGroup("/v1/destinations").WithTags("Destinations").RequireAuthorization();
        api.MapGet("/{destinationId}", GetDestinationAsync).WithName("GetDestination").WithSummary("Gets a destination and its status.");
        api.MapPatch("/{destinationId}", UpdateDestinationAsync).WithName("UpdateDestination")
            .WithSummary("Changes a destination; a new url, key or enabled applies from the live's next publish.");
        api.MapDelete("/{destinationId}", DeleteDestinationAsync).WithName("DeleteDestination").WithSummary("Deletes a destination.");
        return app;
    }

    public static async Task<Results<Created<DestinationDto>, ProblemHttpResult>> CreateDestinationAsync(
        string roomId, CreateDestinationRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        body ??= new CreateDestinationRequest();
        var check = new RequestValidator().ClientId("room_id", roomId).Defined("type", body.Type);
        if (body.Type is null)
        {
            check.Add("type", "Required: twitch, youtube or rtmp.");
        }

        Fields(check, body.Url, body.StreamKey, body.BroadcasterId, body.BroadcasterLogin, body.ThumbnailUrl);
        if (body.Type == DestinationType.Rtmp && string.IsNullOrEmpty(body.Url))
        {
            check.Add("url", "Required for type rtmp (only twitch and youtube destinations may be status only).");
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Room(grains, user, roomId).CreateDestinationAsync(new CreateDestinationCommand(
            body.Type!.Value, body.Url, body.StreamKey, body.BroadcasterId, body.BroadcasterLogin, body.ThumbnailUrl, body.Enabled ?? true));
        return result.IsSuccess
            ? TypedResults.Created($"/v1/destinations/{result.Value!.DestinationId}", result.Value)
            : Problems.From(result.Error!);
    }

    public static async Task<Results<Ok<ListResponse<DestinationDto>>, ProblemHttpResult>> ListDestinationsAsync(
        string roomId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator().ClientId("room_id", roomId);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Room(grains, user, roomId).ListDestinationsAsync();
        return result.IsSuccess ? TypedResults.Ok(new ListResponse<DestinationDto>(result.Value!, null)) : Problems.From(result.Error!);
    }

    public static async Task<Results<Ok<DestinationDto>, ProblemHttpResult>> GetDestinationAsync(
        string destinationId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Owner(destinationId, user, grains) is not { } room)
        {
            return Invalid();
        }

        return RoomsApi.Ok(await room.GetDestinationAsync(destinationId));
    }

    public static async Task<Results<Ok<DestinationDto>, ProblemHttpResult>> UpdateDestinationAsync(
        string destinationId, UpdateDestinationRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        body ??= new UpdateDestinationRequest();
        var check = new RequestValidator();
        if (Owner(destinationId, user, grains) is not { } room)
        {
            check.Add("destination_id", InvalidIdMessage);
            return check.Problem;
        }

        Fields(check, body.Url is "" ? null : body.Url, body.StreamKey is "" ? null : body.StreamKey, body.BroadcasterId, body.BroadcasterLogin,
            body.ThumbnailUrl is "" ? null : body.ThumbnailUrl);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        return RoomsApi.Ok(await room.UpdateDestinationAsync(destinationId, new UpdateDestinationCommand(
            body.Url, body.StreamKey, body.BroadcasterId, body.BroadcasterLogin, body.ThumbnailUrl, body.Enabled)));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteDestinationAsync(
        string destinationId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Owner(destinationId, user, grains) is not { } room)
        {
            return Invalid();
        }

        var result = await room.DeleteDestinationAsync(destinationId);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private const string InvalidIdMessage = "Not a valid destination id (expected 'ds_...').";

    /// <summary>The field rules shared by create and PATCH (an empty string in a PATCH clears, and is not checked here).</summary>
    private static void Fields(RequestValidator check, string? url, string? streamKey, string? broadcasterId, string? broadcasterLogin, string? thumbnailUrl)
    {
        if (url is not null && !IsPushUrl(url))
        {
            check.Add("url", $"Must be an rtmp:// or rtmps:// URL with a host, at most {DestinationLimits.MaxUrlLength} characters, "
                + "without spaces, query or fragment (the stream key goes in stream_key).");
        }

        if (streamKey is not null && (streamKey.Length is 0 or > DestinationLimits.MaxStreamKeyLength || streamKey.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            check.Add("stream_key", $"1-{DestinationLimits.MaxStreamKeyLength} characters, no spaces or control characters.");
        }

        check.Text("broadcaster_id", broadcasterId, DestinationLimits.MaxBroadcasterLength)
            .Text("broadcaster_login", broadcasterLogin, DestinationLimits.MaxBroadcasterLength);
        if (thumbnailUrl is not null
            && (thumbnailUrl.Length > DestinationLimits.MaxThumbnailUrlLength
                || !Uri.TryCreate(thumbnailUrl, UriKind.Absolute, out var thumbnail)
                || (thumbnail.Scheme != Uri.UriSchemeHttps && thumbnail.Scheme != Uri.UriSchemeHttp)))
        {
            check.Add("thumbnail_url", $"Must be an http:// or https:// URL of at most {DestinationLimits.MaxThumbnailUrlLength} characters.");
        }
    }

    /// <summary>rtmp:// or rtmps:// with a host; no query or fragment, since the key is appended as the last path segment.</summary>
    internal static bool IsPushUrl(string url) =>
        url.Length <= DestinationLimits.MaxUrlLength
        && !url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
        && Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme is "rtmp" or "rtmps")
        && uri.Host.Length > 0
        && uri.Query.Length == 0
        && uri.Fragment.Length == 0
        && uri.UserInfo.Length == 0;

    /// <summary>The room owning a well-formed destination id, under the caller's tenant; null for a malformed id.</summary>
    private static IRoomGrain? Owner(string destinationId, ClaimsPrincipal user, IGrainFactory grains) =>
        DestinationIds.TryGetRoom(destinationId, out var roomId) ? Room(grains, user, roomId) : null;

    private static ProblemHttpResult Invalid() => Problems.Validation("destination_id", InvalidIdMessage);

    private static IRoomGrain Room(IGrainFactory grains, ClaimsPrincipal user, string roomId) =>
        grains.Get<IRoomGrain>(TenantKey.Compose(user.Tenant(), roomId));
}
