using LiveGrains.Gateway.Audit;
using LiveGrains.Gateway.Auth;
using LiveGrains.Gateway.Errors;
using LiveGrains.Gateway.Idempotency;
using LiveGrains.Gateway.RateLimiting;
using LiveGrains.Grains;
using LiveGrains.ServiceDefaults;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Scalar.AspNetCore;

namespace LiveGrains.Gateway.Hosting;

public static class GatewayHostingExtensions
{
    /// <summary><c>Gateway:Mode</c>: <c>cohosted</c> runs a silo in this process, <c>client</c> joins a cluster of silo nodes.</summary>
    public static bool IsClientMode(this IConfiguration configuration) =>
        string.Equals(configuration["Gateway:Mode"], "client", StringComparison.OrdinalIgnoreCase);

    public static WebApplicationBuilder AddLiveGrainsOrleans(this WebApplicationBuilder builder)
    {
        if (builder.Configuration.IsClientMode())
        {
            builder.UseOrleansClient(client => client.UseLiveGrainsClient(builder.Configuration));
        }
        else
        {
            builder.UseOrleans(silo => silo.UseLiveGrainsSilo(builder.Configuration));
        }

        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("orleans");
        return builder;
    }

    public static WebApplicationBuilder AddLiveGrainsApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<Auth.ApiKeyOptions>().Bind(builder.Configuration.GetSection("Auth"));
        services.AddSingleton<ApiKeyDirectory>();
        services.AddSingleton<ApiKeyCredentialCache>();
        services.AddSingleton<CredentialValidator>();
        services.AddSingleton<Audit.AuditBuffer>();
        services.AddHostedService(sp => sp.GetRequiredService<Audit.AuditBuffer>());
        services.TryAddSingleton(TimeProvider.System);

        // The clock of LiveGrains' rules, also in client mode (a co-hosted silo registers the same one).
        services.TryAddSingleton(LiveGrainsClock.System);
        services.AddLiveGrainsIdempotencyStore(builder.Configuration);
        services.AddLiveGrainsRateLimits(builder.Configuration);
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();

        services.ConfigureHttpJsonOptions(o => Abstractions.LiveGrainsJson.Configure(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize =
            builder.Configuration.GetValue("Gateway:MaxRequestBodyBytes", RequestSizeLimitMiddleware.DefaultMaxBytes));
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var status = ctx.ProblemDetails.Status ?? ctx.HttpContext.Response.StatusCode;
            if (!ctx.ProblemDetails.Extensions.ContainsKey("code"))
            {
                Problems.Fill(ctx.ProblemDetails, status, Problems.CodeFor(status), Problems.DefaultDetail(status));
            }

            ctx.ProblemDetails.Extensions.Remove("traceId");
            ctx.ProblemDetails.Extensions.Remove("exception");
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "LiveGrains API";
            document.Info.Description = "Live-session control plane: rooms, lives, statistics, ingest streams, webhooks, API keys, host and viewer tokens and the audit log. See README.md.";
            return Task.CompletedTask;
        }));
        return builder;
    }

    public static WebApplication UseLiveGrainsApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestSizeLimitMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();

        // After authentication (buckets are per key and tenant); the audit log sees the access policy's refusals.
        app.UseRateLimiter();
        app.UseMiddleware<RateLimitHeaders>();
        app.UseMiddleware<AuditRecorder>();
        app.UseMiddleware<AccessPolicy>();

        // Outside the idempotency middleware, so a retry re-runs the whole keyed request, idempotency record included.
        app.UseMiddleware<GrainCallRetryMiddleware>();
        app.UseMiddleware<IdempotencyMiddleware>();
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference(o => o.WithTitle("LiveGrains API")).AllowAnonymous();
        app.MapGet("/", () => TypedResults.Redirect("/scalar/v1")).ExcludeFromDescription().AllowAnonymous();
        return app;
    }
}
