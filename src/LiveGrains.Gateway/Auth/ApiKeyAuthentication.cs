using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using LiveGrains.Abstractions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Auth;

/// <summary>Configuration section <c>Auth</c>: <c>Auth:ApiKeys:&lt;key&gt; = &lt;tenant&gt;</c>.</summary>
public sealed class ApiKeyOptions
{
    public Dictionary<string, string> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Accepted only in Development (the embedded default), and printed at start.</summary>
    public string DevApiKey { get; set; } = "lg_dev_key";

    public string DevTenant { get; set; } = "dev";
}

/// <summary>
/// Resolves <c>Authorization: Bearer &lt;key&gt;</c> to a tenant. Keys are kept only as SHA-256 digests in
/// memory and looked up by digest, so a key is never logged or compared character by character.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyDirectory keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string TenantClaim = "tenant";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var tenant = keys.Find(header.AsSpan(7).Trim());
        if (tenant is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var identity = new ClaimsIdentity([new Claim(TenantClaim, tenant)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.Write(Context, StatusCodes.Status401Unauthorized, "unauthorized", "A valid API key is required: Authorization: Bearer <key>.");
    }
}

/// <summary>The configured keys, as digests.</summary>
public sealed class ApiKeyDirectory
{
    private readonly Dictionary<string, string> _tenantByDigest = new(StringComparer.Ordinal);

    public ApiKeyDirectory(IOptions<ApiKeyOptions> options, IHostEnvironment environment)
    {
        foreach (var (key, tenant) in options.Value.ApiKeys)
        {
            if (!string.IsNullOrEmpty(key) && Ids.IsValidClientId(tenant))
            {
                _tenantByDigest[Digest(key)] = tenant;
            }
        }

        if (environment.IsDevelopment() && !string.IsNullOrEmpty(options.Value.DevApiKey))
        {
            DevApiKey = options.Value.DevApiKey;
            _tenantByDigest[Digest(DevApiKey)] = options.Value.DevTenant;
        }
    }

    public string? DevApiKey { get; }

    public int Count => _tenantByDigest.Count;

    public string? Find(ReadOnlySpan<char> key) =>
        key.IsEmpty ? null : _tenantByDigest.GetValueOrDefault(Digest(key));

    private static string Digest(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(key.Length, 512))];
        var length = Encoding.UTF8.GetBytes(key[..Math.Min(key.Length, 512)], utf8);
        return Convert.ToHexString(SHA256.HashData(utf8[..length]));
    }
}

public static class TenantExtensions
{
    /// <summary>The authenticated tenant; endpoints only run after authorization, so it is always there.</summary>
    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim) ?? throw new InvalidOperationException("No tenant on an authorized request.");
}
