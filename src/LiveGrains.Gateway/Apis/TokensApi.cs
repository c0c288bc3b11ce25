using System.Security.Claims;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace LiveGrains.Gateway.Apis;

public sealed record TokenGrantsRequest(string? Room = null, string? Live = null, bool? Host = null, bool? Viewer = null);

public sealed record CreateTokenRequest(string? Sub = null, TokenGrantsRequest? Grants = null, int? TtlSeconds = null, string? KeyId = null);

public sealed record TokenResponse(string Token, string KeyId, string Sub, TokenGrantsRequest Grants, DateTimeOffset ExpiresAt);

/// <summary>
/// <c>POST /v1/tokens</c>: mints, for callers without a JWT library, exactly the HS256 token they could sign
/// themselves with a key's secret. It is signed with the calling managed key, or with <c>key_id</c> (a key of the
/// caller's tenant; required when calling with a key from configuration, which has no secret to sign with).
/// </summary>
public static class TokensApi
{
    public const int DefaultTtlSeconds = 3600;
    public const int MaxTtlSeconds = 86_400;

    private static readonly JsonWebTokenHandler Handler = new();

    public static RouteGroupBuilder MapTokensApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tokens").WithTags("Access").RequireAuthorization();
        api.MapPost("/", CreateTokenAsync).WithName("CreateToken")
            .WithSummary("Mints a host or viewer token (HS256 JWT signed with a managed key's secret) for a room or a live.");
        return api;
    }

    public static async Task<Results<Created<TokenResponse>, ProblemHttpResult>> CreateTokenAsync(
        CreateTokenRequest? body, ClaimsPrincipal user, ApiKeyCredentialCache keys, TimeProvider time)
    {
        body ??= new CreateTokenRequest();
        var caller = Caller.From(user)!;
        var check = new RequestValidator().Range("ttl_seconds", body.TtlSeconds, 1, MaxTtlSeconds);
        if (!Ids.IsValidViewerId(body.Sub))
        {
            check.Add("sub", "Required: 1-128 characters of A-Z, a-z, 0-9, '_', '.', '-'.");
        }

        var grants = body.Grants is { } g ? new TokenGrants(g.Room, g.Live, g.Host ?? false, g.Viewer ?? false) : null;
        if (grants is not { IsValid: true })
        {
            check.Add("grants", "Name a valid 'room' or 'live' and set 'host' or 'viewer' to true.");
        }

        var keyId = body.KeyId ?? (ApiKeySecrets.IsKeyId(caller.KeyId) ? caller.KeyId : null);
        if (keyId is null)
        {
            check.Add("key_id", "Name the managed key to sign with (a key from configuration has no secret to sign with).");
        }
        else if (!ApiKeySecrets.IsKeyId(keyId))
        {
            check.Add("key_id", "Not a valid key id (expected 'key_...').");
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        // Another tenant's key, a revoked one and an unknown one look the same: no existence leak.
        var key = await keys.GetAsync(keyId!);
        if (key is not { Revoked: false } || key.Tenant != caller.Tenant)
        {
            return Problems.Validation("key_id", "No such key.");
        }

        if (key.Scope == ApiKeyScope.Read && grants!.Host)
        {
            return Problems.Validation("grants", "A token signed with a 'read' key cannot run lives: sign host tokens with a 'write' or 'admin' key.");
        }

        var now = time.GetUtcNow();
        var expires = now.AddSeconds(body.TtlSeconds ?? DefaultTtlSeconds);
        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = key.KeyId,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["sub"] = body.Sub!,
                ["grants"] = JsonSerializer.SerializeToElement(grants!.ToClaim()),
            },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key.SecretDigest), SecurityAlgorithms.HmacSha256),
        });
        var echo = new TokenGrantsRequest(grants!.Room, grants.Live, grants.Host, grants.Viewer);
        return TypedResults.Created((string?)null, new TokenResponse(token, key.KeyId, body.Sub!, echo, expires));
    }
}
