using System.Security.Claims;
using System.Text.Encodings.Web;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Apis.Compat;

/// <summary>
/// A seed platform's authentication scheme: where its clients put the credential (<see cref="Credential"/>) and how
/// the platform says "no" (<see cref="Errors"/>). The credential itself is an ordinary LiveGrains API key or token,
/// resolved by the same <see cref="CredentialValidator"/> as <c>/v1</c>: no second secret store, no second comparison.
/// </summary>
public sealed class CompatAuthenticationOptions : AuthenticationSchemeOptions
{
    public Func<HttpRequest, string?> Credential { get; set; } = _ => null;

    public ICompatErrors? Errors { get; set; }

    /// <summary>The <c>WWW-Authenticate</c> challenge the platform's clients expect, if any.</summary>
    public string? Challenge { get; set; }

    /// <summary>What a 401 tells the client: which header to send.</summary>
    public string UnauthorizedMessage { get; set; } = "A valid credential is required.";
}

public sealed class CompatAuthenticationHandler(
    IOptionsMonitor<CompatAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CredentialValidator validator) : AuthenticationHandler<CompatAuthenticationOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Options.Credential(Request) is not { } credential)
        {
            return AuthenticateResult.NoResult();
        }

        return await validator.ResolveAsync(credential.Trim()) is { } caller
            ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(caller.ToIdentity(Scheme.Name)), Scheme.Name))
            : AuthenticateResult.Fail("Unknown credential.");
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Options.Challenge is { } challenge)
        {
            Response.Headers.WWWAuthenticate = challenge;
        }

        return Options.Errors!.WriteAsync(Context, StatusCodes.Status401Unauthorized, "unauthorized", Options.UnauthorizedMessage);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Options.Errors!.WriteAsync(Context, StatusCodes.Status403Forbidden, "forbidden", "This credential does not allow this request.");
}
