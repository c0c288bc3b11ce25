using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using LiveGrains.Gateway.Hosting;
using LiveGrains.Gateway.Idempotency;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

public static class RoomsApi
{
    public const int DefaultReconnectWindowSeconds = 60;
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public static RouteGroupBuilder MapRoomsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/rooms").WithTags("Rooms").RequireAuthorization();
        api.MapPost("/", CreateRoomAsync).WithMetadata(new DeduplicatedByRequestId()).WithName("CreateRoom").WithSummary("Creates a room (a channel that holds at most one active live).");
        api.MapGet("/{roomId}", GetRoomAsync).WithName("GetRoom").WithSummary("Gets a room and its active live id.");
        api.MapPatch("/{roomId}", UpdateRoomAsync).WithName("UpdateRoom").WithSummary("Changes a room's title, host, co-hosts, takeover policy or reconnect window.");
        api.MapDelete("/{roomId}", DeleteRoomAsync).WithName("DeleteRoom")
            .WithSummary("Deletes a room (409 live_already_active while a live is on air); its lives stay readable.");
        api.MapGet("/{roomId}/lives", ListLivesAsync).WithName("ListRoomLives").WithSummary("Every live the room ever had, newest first, with cursor paging.");
        api.MapPost("/{roomId}/go-live", GoLiveAsync).WithMetadata(new DeduplicatedByRequestId()).WithName("GoLive")
            .WithSummary("Creates a live and starts it now; an active live is superseded (takeover) or the call is refused (reject).");
        api.MapPost("/{roomId}/lives", ScheduleLiveAsync).WithMetadata(new DeduplicatedByRequestId()).WithName("ScheduleLive").WithSummary("Creates a live in 'scheduled'.");
        return api;
    }

    public static async Task<Results<Created<RoomDto>, ProblemHttpResult>> CreateRoomAsync(
        CreateRoomRequest? body, ClaimsPrincipal user, IGrainFactory grains, TimeProvider time, HttpContext context)
    {
        body ??= new CreateRoomRequest();
        var check = new RequestValidator()
            .ClientId("room_id", body.RoomId, required: false)
            .Text("title", body.Title, RequestValidator.MaxTitleLength)
            .ClientId("host_id", body.HostId, required: false)
            .CoHostIds("co_host_ids", body.CoHostIds)
            .Defined("takeover_policy", body.TakeoverPolicy)
            .Range("reconnect_window_seconds", body.ReconnectWindowSeconds, 0, RequestValidator.MaxReconnectWindowSeconds)
            .Details(body.Description, body.Metadata, body.Visibility, body.CreatedBy)
            .PresetId("preset_id", body.PresetId);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        // A retried create without room_id must reach the same room, so its id derives from the Idempotency-Key.
        var requestId = IdempotencyMiddleware.RequestIdOf(context);
        var roomId = body.RoomId ?? (requestId is null ? Ids.NewRoomId(time.GetUtcNow()) : DerivedRoomId(user.Tenant(), requestId));
        var result = await Room(grains, user, roomId).CreateAsync(new CreateRoomCommand(
            body.Title, body.HostId, body.TakeoverPolicy ?? TakeoverPolicy.Takeover, body.ReconnectWindowSeconds ?? DefaultReconnectWindowSeconds, requestId,
            new ResourceDetails(body.Description, body.Metadata, body.Visibility, body.CreatedBy), body.PresetId, body.CoHostIds));
        return result.IsSuccess ? TypedResults.Created($"/v1/rooms/{roomId}", result.Value) : Problems.From(result.Error!);
    }

    public static async Task<Results<Ok<RoomDto>, ProblemHttpResult>> GetRoomAsync(string roomId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (InvalidRoomId(roomId) is { } invalid)
        {
            return invalid;
        }

        return Ok(await Room(grains, user, roomId).GetAsync());
    }

    public static async Task<Results<Ok<RoomDto>, ProblemHttpResult>> UpdateRoomAsync(
        string roomId, UpdateRoomRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        body ??= new UpdateRoomRequest();
        var check = new RequestValidator()
            .ClientId("room_id", roomId)
            .Text("title", body.Title, RequestValidator.MaxTitleLength)
            .ClientId("host_id", body.HostId, required: false)
            .CoHostIds("co_host_ids", body.CoHostIds)
            .Defined("takeover_policy", body.TakeoverPolicy)
            .Range("reconnect_window_seconds", body.ReconnectWindowSeconds, 0, RequestValidator.MaxReconnectWindowSeconds)
            .Details(body.Description, body.Metadata, body.Visibility)
            .PresetId("preset_id", body.PresetId, clearable: true);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        return Ok(await Room(grains, user, roomId).UpdateAsync(
            new UpdateRoomCommand(body.Title, body.HostId, body.TakeoverPolicy, body.ReconnectWindowSeconds,
                new ResourceDetails(body.Description, body.Metadata, body.Visibility), body.PresetId, body.CoHostIds)));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteRoomAsync(string roomId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (InvalidRoomId(roomId) is { } invalid)
        {
            return invalid;
        }

        var result = await Room(grains, user, roomId).DeleteAsync(null);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    public static async Task<Results<Ok<ListResponse<LiveDto>>, ProblemHttpResult>> ListLivesAsync(
        string roomId, ClaimsPrincipal user, IGrainFactory grains, int? limit = null, string? cursor = null)
    {
        var check = new RequestValidator()
            .ClientId("room_id", roomId)
            .Range("limit", limit, 1, MaxPageSize)
            .Text("cursor", cursor, 128);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Room(grains, user, roomId).ListLivesAsync(limit ?? DefaultPageSize, cursor);
        return result.IsSuccess
            ? TypedResults.Ok(new ListResponse<LiveDto>(result.Value!.Items, result.Value.NextCursor))
            : Problems.From(result.Error!);
    }

    public static async Task<Results<Created<GoLiveResult>, ProblemHttpResult>> GoLiveAsync(
        string roomId, GoLiveRequest? body, ClaimsPrincipal user, IGrainFactory grains, HttpContext context)
    {
        body ??= new GoLiveRequest();
        var check = new RequestValidator()
            .ClientId("room_id", roomId)
            .Text("title", body.Title, RequestValidator.MaxTitleLength)
            .Text("started_by", body.StartedBy, RequestValidator.MaxActorLength)
            .Details(body.Description, body.Metadata, body.Visibility, body.CreatedBy)
            .Overrides(body.MaxJoinLimitOverride)
            .Defined("mode", body.Mode);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Room(grains, user, roomId).GoLiveAsync(new GoLiveCommand(
            body.Title, body.StartedBy ?? Caller.TokenSubject(user), IdempotencyMiddleware.RequestIdOf(context), new ResourceDetails(body.Description, body.Metadata, body.Visibility, body.CreatedBy),
            body.Overrides, body.Mode));
        return result.IsSuccess
            ? TypedResults.Created($"/v1/lives/{result.Value!.Live.LiveId}", result.Value)
            : Problems.From(result.Error!);
    }

    public static async Task<Results<Created<LiveDto>, ProblemHttpResult>> ScheduleLiveAsync(
        string roomId, ScheduleLiveRequest? body, ClaimsPrincipal user, IGrainFactory grains, HttpContext context)
    {
        body ??= new ScheduleLiveRequest();
        var check = new RequestValidator()
            .ClientId("room_id", roomId)
            .Text("title", body.Title, RequestValidator.MaxTitleLength)
            .Details(body.Description, body.Metadata, body.Visibility, body.CreatedBy)
            .Overrides(body.MaxJoinLimitOverride)
            .Defined("mode", body.Mode);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Room(grains, user, roomId).ScheduleLiveAsync(new ScheduleLiveCommand(
            body.Title, body.ScheduledStartTime, IdempotencyMiddleware.RequestIdOf(context), new ResourceDetails(body.Description, body.Metadata, body.Visibility, body.CreatedBy),
            body.Overrides, body.Mode));
        return result.IsSuccess
            ? TypedResults.Created($"/v1/lives/{result.Value!.LiveId}", result.Value)
            : Problems.From(result.Error!);
    }

    internal static Results<Ok<T>, ProblemHttpResult> Ok<T>(Result<T> result) =>
        result.IsSuccess ? TypedResults.Ok(result.Value!) : Problems.From(result.Error!);

    private static ProblemHttpResult? InvalidRoomId(string roomId)
    {
        var check = new RequestValidator().ClientId("room_id", roomId);
        return check.IsValid ? null : check.Problem;
    }

    /// <summary>Stable per (tenant, Idempotency-Key), so a retry reaches the same room and tenants never share an id.</summary>
    private static string DerivedRoomId(string tenant, string requestId) =>
        "rm_" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(tenant + "/" + requestId)))[..26].ToLowerInvariant();

    private static IRoomGrain Room(IGrainFactory grains, ClaimsPrincipal user, string roomId) =>
        grains.Get<IRoomGrain>(TenantKey.Compose(user.Tenant(), roomId));
}
