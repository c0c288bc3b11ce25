using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using LiveGrains.Abstractions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

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
/// Resolves a presented credential to a <see cref="Caller"/>: a managed key's secret (<c>lgsk_...</c>: its key id is
/// embedded, so it is one cached lookup and a constant-time digest comparison), a JWT signed with a managed key's
/// secret (verified by <see cref="JsonWebTokenHandler"/>), or a key from configuration (looked up by digest; always
/// <c>admin</c>). Secrets are never logged and never compared character by character. Shared by the <c>/v1</c> Bearer
/// scheme and the seed platforms' schemes (Apis/Compat), which differ only in where the credential travels.
/// </summary>
public sealed class CredentialValidator(ApiKeyDirectory keys, ApiKeyCredentialCache credentials)
{
    /// <summary>Longer than any credential LiveGrains issues or accepts; bounds the work an oversized header causes.</summary>
    public const int MaxCredentialLength = 8192;

    private static readonly JsonWebTokenHandler Tokens = new();

    /// <summary>The caller the credential stands for, or null when it is unknown, revoked, expired or malformed.</summary>
    public async Task<Caller?> ResolveAsync(string credential)
    {
        if (credential.Length is 0 or > MaxCredentialLength)
        {
            return null;
        }

        if (ApiKeySecrets.KeyIdOf(credential) is { } keyId)
        {
            return await ManagedKeyAsync(keyId, credential);
        }

        // A configured key may itself contain dots, so a JWT-shaped credential that is no valid token is tried as one.
        var caller = credential.Count(c => c == '.') == 2 ? await TokenAsync(credential) : null;
        return caller ?? keys.Find(credential);
    }

    private async Task<Caller?> ManagedKeyAsync(string keyId, string secret)
    {
        var credential = await credentials.GetAsync(keyId);
        if (credential is not { Revoked: false } || !CryptographicOperations.FixedTimeEquals(credential.SecretDigest, ApiKeySecrets.Digest(secret)))
        {
            return null;
        }

        return Caller.ForManagedKey(credential);
    }

    private async Task<Caller?> TokenAsync(string jwt)
    {
        string issuer;
        try
        {
            if (!Tokens.CanReadToken(jwt))
            {
                return null;
            }

            issuer = Tokens.ReadJsonWebToken(jwt).Issuer;
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException or FormatException or System.Text.Json.JsonException)
        {
            return null;
        }

        if (!ApiKeySecrets.IsKeyId(issuer) || await credentials.GetAsync(issuer) is not { Revoked: false } key)
        {
            return null;
        }

        var result = await Tokens.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            ValidIssuer = key.KeyId,
            ValidateAudience = false,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],

            // The digest is the secret's HMAC key (see ApiKeyCredential): the same signatures, without storing the secret.
            IssuerSigningKey = new SymmetricSecurityKey(key.SecretDigest),
        });
        if (!result.IsValid)
        {
            return null;
        }

        var subject = result.ClaimsIdentity.FindFirst("sub")?.Value;
        var grants = TokenGrants.Parse(result.ClaimsIdentity.FindFirst("grants"));
        return Ids.IsValidViewerId(subject) && grants is not null ? Caller.ForToken(key, subject!, grants) : null;
    }
}

/// <summary>Resolves <c>Authorization: Bearer &lt;credential&gt;</c> through <see cref="CredentialValidator"/>.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CredentialValidator validator) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string TenantClaim = "tenant";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        return await validator.ResolveAsync(header[7..].Trim()) is { } caller
            ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(caller.ToIdentity(SchemeName)), SchemeName))
            : AuthenticateResult.Fail("Unknown credential.");
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.Write(Context, StatusCodes.Status401Unauthorized, "unauthorized",
            "A valid API key or token is required: Authorization: Bearer <key or token>.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.Write(Context, StatusCodes.Status403Forbidden, "forbidden", "This credential does not allow this request.");
}

/// <summary>
/// The configured keys, as digests of the whole key, each with the caller it stands for: a request costs one digest
/// and one lookup, and every request with the same key shares one immutable <see cref="Caller"/>.
/// </summary>
public sealed class ApiKeyDirectory
{
    private readonly Dictionary<string, Caller> _callerByDigest = new(StringComparer.Ordinal);

    public ApiKeyDirectory(IOptions<ApiKeyOptions> options, IHostEnvironment environment)
    {
        foreach (var (key, tenant) in options.Value.ApiKeys)
        {
            if (!string.IsNullOrEmpty(key) && Ids.IsValidClientId(tenant))
            {
                Add(key, tenant);
            }
        }

        if (environment.IsDevelopment() && !string.IsNullOrEmpty(options.Value.DevApiKey))
        {
            DevApiKey = options.Value.DevApiKey;
            Add(DevApiKey, options.Value.DevTenant);
        }
    }

    public string? DevApiKey { get; }

    public int Count => _callerByDigest.Count;

    /// <summary>The caller a configured key stands for, or null.</summary>
    public Caller? Find(ReadOnlySpan<char> key) =>
        key.IsEmpty ? null : _callerByDigest.GetValueOrDefault(Digest(key));

    /// <summary>How the audit log names a configured key: a prefix of its digest, which says nothing about the key.</summary>
    private static string ActorIdOf(string digest) => "cfg_" + digest[..12].ToLowerInvariant();

    private void Add(string key, string tenant)
    {
        var digest = Digest(key);
        _callerByDigest[digest] = Caller.ForConfiguredKey(tenant, ActorIdOf(digest));
    }

    /// <summary>SHA-256 of the whole key's UTF-8 bytes (as a managed key's secret is digested), in hex.</summary>
    private static string Digest(ReadOnlySpan<char> key) => Convert.ToHexString(ApiKeySecrets.Digest(key));
}

public static class TenantExtensions
{
    /// <summary>The authenticated tenant; endpoints only run after authorization, so it is always there.</summary>
    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim) ?? throw new InvalidOperationException("No tenant on an authorized request.");
}
