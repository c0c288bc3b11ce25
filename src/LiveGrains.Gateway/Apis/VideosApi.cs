using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace LiveGrains.Gateway.Apis;

/// <summary>Recorded videos (docs/ingest.md, "Recordings as videos"): made by the media server's record-done callback.</summary>
public static class VideosApi
{
    public static RouteGroupBuilder MapVideosApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/videos").WithTags("Videos").RequireAuthorization();
        api.MapGet("/", ListVideosAsync).WithName("ListVideos").WithSummary("The tenant's recorded videos, or one live's with live_id, newest first.");
        api.MapGet("/{videoId}", GetVideoAsync).WithName("GetVideo").WithSummary("Gets a recorded video: pending until probed, then ready or failed.");
        api.MapDelete("/{videoId}", DeleteVideoAsync).WithName("DeleteVideo").WithSummary("Deletes a recorded video and its file.");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<VideoDto>>, ProblemHttpResult>> ListVideosAsync(
        ClaimsPrincipal user, IGrainFactory grains, [FromQuery(Name = "live_id")] string? liveId = null, int? limit = null, string? cursor = null)
    {
        var check = new RequestValidator().Range("limit", limit, 1, RoomsApi.MaxPageSize).Text("cursor", cursor, 256);
        if (liveId is not null)
        {
            check.LiveId("live_id", liveId);
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await grains.Get<ITenantListingGrain>(user.Tenant()).ListVideosAsync(liveId, limit ?? RoomsApi.DefaultPageSize, cursor);
        return result.IsSuccess
            ? TypedResults.Ok(new ListResponse<VideoDto>(result.Value!.Items, result.Value.NextCursor))
            : Problems.From(result.Error!);
    }

    public static async Task<Results<Ok<VideoDto>, ProblemHttpResult>> GetVideoAsync(string videoId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Invalid(videoId) is { } invalid)
        {
            return invalid;
        }

        var result = await grains.Get<IVideoGrain>(videoId).GetAsync(user.Tenant());
        return result.IsSuccess ? TypedResults.Ok(result.Value!) : Problems.From(result.Error!);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteVideoAsync(string videoId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Invalid(videoId) is { } invalid)
        {
            return invalid;
        }

        var result = await grains.Get<IVideoGrain>(videoId).DeleteAsync(user.Tenant());
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static ProblemHttpResult? Invalid(string videoId)
    {
        var check = new RequestValidator().ServerId("video_id", videoId, "vd_");
        return check.IsValid ? null : check.Problem;
    }
}
