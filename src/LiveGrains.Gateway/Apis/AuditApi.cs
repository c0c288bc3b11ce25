using System.Globalization;
using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

/// <summary><c>GET /v1/audit</c>: the tenant's control actions, oldest first, after a cursor.</summary>
public static class AuditApi
{
    public static RouteGroupBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/audit").WithTags("Access").RequireAuthorization();
        api.MapGet("/", ListAuditAsync).WithName("ListAudit")
            .WithSummary("Every control action (rooms, lives, streams, webhooks, keys, tokens) with its actor and outcome, oldest first.");
        return api;
    }

    public static async Task<Results<Ok<AuditPage>, ProblemHttpResult>> ListAuditAsync(
        ClaimsPrincipal user, IGrainFactory grains, string? resource = null, string? actor = null, string? after = null, int? limit = null)
    {
        var check = new RequestValidator()
            .Text("resource", resource, Ids.MaxLiveIdLength)
            .Text("actor", actor, 200)
            .Range("limit", limit, 1, RoomsApi.MaxPageSize);
        long cursor = 0;
        if (after is not null && (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out cursor) || cursor < 0))
        {
            check.Add("after", "Not a cursor of this feed (use an entry's id or next_cursor).");
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var page = await grains.Get<IAuditLogGrain>(user.Tenant()).QueryAsync(new AuditQuery(resource, actor, cursor, limit ?? RoomsApi.DefaultPageSize));
        return TypedResults.Ok(page);
    }
}
