using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Apis;

/// <summary>Query parameters of <c>GET /v1/lives</c>.</summary>
public sealed record ListLivesParameters(
    [property: FromQuery(Name = "status")] string[]? Status,
    [property: FromQuery(Name = "room_id")] string? RoomId,
    [property: FromQuery(Name = "order")] string? Order,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

/// <summary>
/// The tenant-wide listings (api.md "Listing"): rooms, lives (filtered, in three orders) and streams, cursor-paged.
/// Each is one call to the tenant's <see cref="ITenantListingGrain"/>, which reads the sharded indexes
/// (docs/listing.md): eventually consistent, a change shows within 2 s.
/// </summary>
public static class ListingApi
{
    private static readonly Dictionary<string, LiveStatus> Statuses = new(StringComparer.Ordinal)
    {
        ["scheduled"] = LiveStatus.Scheduled,
        ["ready"] = LiveStatus.Ready,
        ["live"] = LiveStatus.Live,
        ["paused"] = LiveStatus.Paused,
        ["ended"] = LiveStatus.Ended,
    };

    private static readonly Dictionary<string, LiveOrder> Orders = new(StringComparer.Ordinal)
    {
        ["created_at"] = LiveOrder.CreatedAt,
        ["started_at"] = LiveOrder.StartedAt,
        ["viewer_count"] = LiveOrder.ViewerCount,
    };

    public static IEndpointRouteBuilder MapListingApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/rooms", ListRoomsAsync).WithTags("Rooms").RequireAuthorization()
            .WithName("ListRooms").WithSummary("The tenant's rooms, newest first, with cursor paging.");
        app.MapGet("/v1/lives", ListLivesAsync).WithTags("Lives").RequireAuthorization()
            .WithName("ListLives")
            .WithSummary("The tenant's lives by status (repeatable) and room, newest first, by start, or by audience ('live now').");
        app.MapGet("/v1/streams", ListStreamsAsync).WithTags("Streams").RequireAuthorization()
            .WithName("ListStreams").WithSummary("The tenant's ingest streams, of one room with room_id, newest first.");
        app.MapGet("/v1/rooms/{roomId}/streams", ListRoomStreamsAsync).WithTags("Streams").RequireAuthorization()
            .WithName("ListRoomStreams").WithSummary("A room's ingest streams, newest first.");
        return app;
    }

    public static async Task<Results<Ok<ListResponse<RoomDto>>, ProblemHttpResult>> ListRoomsAsync(
        ClaimsPrincipal user, IGrainFactory grains, int? limit = null, string? cursor = null)
    {
        var check = Paging(new RequestValidator(), limit, cursor);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Listing(grains, user).ListRoomsAsync(limit ?? RoomsApi.DefaultPageSize, cursor);
        return result.IsSuccess
            ? TypedResults.Ok(new ListResponse<RoomDto>(result.Value!.Items, result.Value.NextCursor))
            : Problems.From(result.Error!);
    }

    public static async Task<Results<Ok<ListResponse<LiveDto>>, ProblemHttpResult>> ListLivesAsync(
        [AsParameters] ListLivesParameters query, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = Paging(new RequestValidator(), query.Limit, query.Cursor).ClientId("room_id", query.RoomId, required: false);
        var statuses = new List<LiveStatus>();
        foreach (var value in query.Status ?? [])
        {
            if (Statuses.TryGetValue(value, out var status))
            {
                statuses.Add(status);
            }
            else
            {
                check.Add("status", "Must be one of scheduled, ready, live, paused, ended.");
            }
        }

        var order = LiveOrder.CreatedAt;
        if (query.Order is not null && !Orders.TryGetValue(query.Order, out order))
        {
            check.Add("order", "Must be one of created_at, started_at, viewer_count.");
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Listing(grains, user).ListLivesAsync(new LiveListQuery(
            order, statuses.Count > 0 ? [.. statuses.Distinct()] : null, query.RoomId, query.Limit ?? RoomsApi.DefaultPageSize, query.Cursor));
        return result.IsSuccess
            ? TypedResults.Ok(new ListResponse<LiveDto>(result.Value!.Items, result.Value.NextCursor))
            : Problems.From(result.Error!);
    }

    public static Task<Results<Ok<ListResponse<StreamResource>>, ProblemHttpResult>> ListStreamsAsync(
        ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest,
        [FromQuery(Name = "room_id")] string? roomId = null, int? limit = null, string? cursor = null) =>
        StreamsAsync(user, grains, ingest, roomId, roomMustExist: false, limit, cursor);

    public static Task<Results<Ok<ListResponse<StreamResource>>, ProblemHttpResult>> ListRoomStreamsAsync(
        string roomId, ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest, int? limit = null, string? cursor = null) =>
        StreamsAsync(user, grains, ingest, roomId, roomMustExist: true, limit, cursor);

    private static async Task<Results<Ok<ListResponse<StreamResource>>, ProblemHttpResult>> StreamsAsync(
        ClaimsPrincipal user, IGrainFactory grains, IOptions<IngestOptions> ingest, string? roomId, bool roomMustExist, int? limit, string? cursor)
    {
        var check = Paging(new RequestValidator(), limit, cursor).ClientId("room_id", roomId, required: roomMustExist);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Listing(grains, user).ListStreamsAsync(roomId, roomMustExist, limit ?? RoomsApi.DefaultPageSize, cursor);
        return result.IsSuccess
            ? TypedResults.Ok(new ListResponse<StreamResource>([.. result.Value!.Items.Select(s => StreamResource.From(s, ingest.Value))], result.Value.NextCursor))
            : Problems.From(result.Error!);
    }

    private static RequestValidator Paging(RequestValidator check, int? limit, string? cursor) =>
        check.Range("limit", limit, 1, RoomsApi.MaxPageSize).Text("cursor", cursor, 256);

    private static ITenantListingGrain Listing(IGrainFactory grains, ClaimsPrincipal user) =>
        grains.Get<ITenantListingGrain>(user.Tenant());
}
