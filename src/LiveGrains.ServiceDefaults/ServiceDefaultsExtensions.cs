using LiveGrains.ServiceDefaults.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using Orleans.Dashboard;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace LiveGrains.ServiceDefaults;

/// <summary>Telemetry and health endpoints shared by the silo and gateway hosts (the Aspire ServiceDefaults shape).</summary>
public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter("Microsoft.Orleans", LiveGrainsTelemetry.MeterName)
                .AddPrometheusExporter());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // Traces only when they go somewhere: a registered tracer records an activity for every request, webhook
            // attempt and grain call, which costs the hot paths CPU for spans that nobody would ever read.
            telemetry
                .WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsProbe(ctx.Request.Path))
                    .AddHttpClientInstrumentation()
                    .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", LiveGrainsTelemetry.ActivitySourceName))
                .UseOtlpExporter();
        }

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        var storage = builder.Configuration.Storage();
        if (storage.Provider == StorageProvider.Redis)
        {
            builder.Services.AddLazyRedisConnection(builder.Configuration);
            builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis");
        }
        else if (storage.Provider == StorageProvider.Azure)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                "azure-storage", _ => new AzureStorageHealthCheck(storage), failureStatus: null, tags: null));
        }

        builder.Services.AddOpsAuthentication();
        return builder;
    }

    /// <summary>
    /// <c>/alive</c>: the process answers. <c>/health</c>: every registered check passes (cluster, Redis or Azure Storage).
    /// <c>/metrics</c> (Prometheus) and <c>/dashboard</c> (Orleans dashboard, where the host added it) need the operator key.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health").AllowAnonymous();
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) }).AllowAnonymous();
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(OpsAuthenticationHandler.PolicyName);
        if (app.Configuration.DashboardEnabled())
        {
            app.MapOrleansDashboard(routePrefix: "/dashboard").RequireAuthorization(OpsAuthenticationHandler.PolicyName);
        }

        return app;
    }

    private static bool IsProbe(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments("/alive") || path.StartsWithSegments("/health");
}
