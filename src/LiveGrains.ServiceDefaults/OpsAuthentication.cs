using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.ServiceDefaults;

/// <summary>
/// Operator access to cluster-wide surfaces (the Orleans dashboard, /metrics): <c>Ops:ApiKey</c> as a bearer
/// token (Prometheus' <c>authorization</c>) or as the Basic password (browsers). Tenant API keys never
/// grant it, and with no <c>Ops:ApiKey</c> configured these surfaces refuse everyone.
/// </summary>
public sealed class OpsAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IConfiguration configuration) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Ops";
    public const string PolicyName = "ops";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var expected = configuration["Ops:ApiKey"];
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(expected) || string.IsNullOrEmpty(header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        string? presented = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = header[7..].Trim();
        }
        else if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                presented = decoded[(decoded.IndexOf(':', StringComparison.Ordinal) + 1)..];
            }
            catch (FormatException)
            {
                return Task.FromResult(AuthenticateResult.Fail("Malformed Basic credentials."));
            }
        }

        if (presented is null || !FixedTimeEquals(presented, expected))
        {
            return Task.FromResult(AuthenticateResult.Fail("Not an operator key."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "ops")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Basic realm=\"LiveGrains operations\"";
        return Task.CompletedTask;
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(a)), SHA256.HashData(Encoding.UTF8.GetBytes(b)));
}

public static class OpsAuthenticationExtensions
{
    public static IServiceCollection AddOpsAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, OpsAuthenticationHandler>(OpsAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(OpsAuthenticationHandler.PolicyName, policy => policy
            .AddAuthenticationSchemes(OpsAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser());
        return services;
    }
}
