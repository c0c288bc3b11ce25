using LiveGrains.Gateway.Apis.Compat.Fourthwall;
using LiveGrains.Gateway.Apis.Compat.Gcore;
using LiveGrains.Gateway.Apis.Compat.LiveKitPlatform;
using LiveGrains.Gateway.Apis.Compat.Prism;
using LiveGrains.Gateway.Apis.Compat.Sendbird;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Apis.Compat;

/// <summary>
/// The seed platforms' own APIs (api.md, "compatibility"), each a thin adapter over the same grains as <c>/v1</c>:
/// its own authentication scheme (the same API keys and tokens, carried where the platform carries them), its own
/// paths, envelopes, field names, status words, timestamps and error shapes (docs/compat.md).
/// </summary>
public static class CompatApis
{
    public static WebApplicationBuilder AddLiveGrainsCompat(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddOptions<CompatOptions>().Bind(configuration.GetSection("Compat"))
            .PostConfigure<IOptions<IngestOptions>>((compat, ingest) =>
            {
                compat.RtmpBaseUrl = ingest.Value.RtmpBaseUrl;
                compat.WhipBaseUrl = ingest.Value.WhipBaseUrl;
                compat.WatchUrlTemplate ??= configuration["Links:WatchUrlTemplate"];
            });

        var authentication = builder.Services.AddAuthentication();
        void Scheme(string name, string policy, ICompatErrors errors, Func<HttpRequest, string?> credential, string unauthorized, string? challenge = null)
        {
            authentication.AddScheme<CompatAuthenticationOptions, CompatAuthenticationHandler>(name, o =>
            {
                o.Credential = credential;
                o.Errors = errors;
                o.UnauthorizedMessage = unauthorized;
                o.Challenge = challenge;
            });
            builder.Services.AddAuthorizationBuilder().AddPolicy(policy, p => p.AddAuthenticationSchemes(name).RequireAuthenticatedUser());
        }

        Scheme(PrismApi.Scheme, PrismApi.Policy, PrismApi.Errors,
            r => r.Headers[PrismApi.TokenHeader] is { Count: > 0 } h ? h.ToString() : null,
            $"A valid access token is required in the {PrismApi.TokenHeader} header.");
        Scheme(SendbirdApi.Scheme, SendbirdApi.Policy, SendbirdApi.Errors,
            r => r.Headers[SendbirdApi.TokenHeader] is { Count: > 0 } h ? h.ToString() : null,
            $"A valid API token is required in the {SendbirdApi.TokenHeader} header.");
        Scheme(LiveKitPlatformApi.Scheme, LiveKitPlatformApi.Policy, LiveKitPlatformApi.Errors,
            r => r.Headers.Authorization.ToString() is { } h && h.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? h[7..] : null,
            "A valid API key or host token is required: Authorization: Bearer <token>.", challenge: "Bearer");
        Scheme(FourthwallApi.Scheme, FourthwallApi.Policy, FourthwallApi.Errors, FourthwallApi.CredentialOf,
            "HTTP Basic authentication is required, with the API key as the password.", challenge: "Basic realm=\"fourthwall\"");
        Scheme(GcoreApi.Scheme, GcoreApi.Policy, GcoreApi.Errors, GcoreApi.CredentialOf,
            "A valid API key is required: Authorization: APIKey <key>.");
        return builder;
    }

    public static WebApplication MapCompatApis(this WebApplication app)
    {
        app.MapPrismApi();
        app.MapSendbirdApi();
        app.MapLiveKitPlatformApi();
        app.MapFourthwallApi();
        app.MapGcoreApi();
        return app;
    }
}
