using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

public sealed record CreateApiKeyRequest(string? Name = null, IReadOnlyList<ApiKeyScope>? Scopes = null);

/// <summary>Managed API keys (api.md, "Access"): admin scope only (see <see cref="AccessPolicy"/>).</summary>
public static class ApiKeysApi
{
    public const int MaxNameLength = 100;

    public static RouteGroupBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/api-keys").WithTags("Access").RequireAuthorization();
        api.MapPost("/", CreateApiKeyAsync).WithName("CreateApiKey")
            .WithSummary("Creates an API key; the answer is the only time its secret is shown (it is stored hashed). Admin scope.");
        api.MapGet("/", ListApiKeysAsync).WithName("ListApiKeys").WithSummary("The tenant's managed keys, without secrets. Admin scope.");
        api.MapDelete("/{keyId}", DeleteApiKeyAsync).WithName("DeleteApiKey")
            .WithSummary("Revokes a key: every gateway refuses it, and tokens signed with it, within 5 s. Admin scope.");
        return api;
    }

    public static async Task<Results<Created<CreatedApiKeyDto>, ProblemHttpResult>> CreateApiKeyAsync(
        CreateApiKeyRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        body ??= new CreateApiKeyRequest();
        var check = new RequestValidator().Text("name", body.Name, MaxNameLength);
        if (string.IsNullOrWhiteSpace(body.Name))
        {
            check.Add("name", "Required.");
        }

        if (body.Scopes is { } scopes)
        {
            if (scopes.Count == 0)
            {
                check.Add("scopes", "Omit for ['admin'], or list at least one of 'admin', 'write', 'read'.");
            }

            foreach (var scope in scopes)
            {
                check.Defined("scopes", (ApiKeyScope?)scope);
            }
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Registry(grains, user).CreateAsync(new CreateApiKeyCommand(body.Name!, body.Scopes ?? [ApiKeyScope.Admin]));
        return result.IsSuccess ? TypedResults.Created($"/v1/api-keys/{result.Value!.KeyId}", result.Value) : Problems.From(result.Error!);
    }

    public static async Task<Ok<ListResponse<ApiKeyDto>>> ListApiKeysAsync(ClaimsPrincipal user, IGrainFactory grains) =>
        TypedResults.Ok(new ListResponse<ApiKeyDto>(await Registry(grains, user).ListAsync(), null));

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteApiKeyAsync(string keyId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!ApiKeySecrets.IsKeyId(keyId))
        {
            return Problems.Validation("key_id", "Not a valid key id (expected 'key_...').");
        }

        var result = await Registry(grains, user).DeleteAsync(keyId);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static IApiKeyRegistryGrain Registry(IGrainFactory grains, ClaimsPrincipal user) => grains.Get<IApiKeyRegistryGrain>(user.Tenant());
}
