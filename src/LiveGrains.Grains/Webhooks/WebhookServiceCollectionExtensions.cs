using System.Net;
using LiveGrains.Grains.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LiveGrains.Grains.Webhooks;

public static class WebhookServiceCollectionExtensions
{
    /// <summary>Webhook delivery for a silo: the event sink, the sender and its HttpClient (no redirects, no proxy, SSRF-checked connects).</summary>
    public static IServiceCollection AddLiveGrainsWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(WebhookOptions.SectionName);
        services.AddOptions<WebhookOptions>().Bind(section);
        var allowPrivate = section.GetValue(nameof(WebhookOptions.AllowPrivateNetworks), false);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WebhookSender>();
        // Every event goes to the tenant's pull feed (GET /v1/events) and then to the webhook logs.
        services.TryAddSingleton<IResourceEventSink>(sp => new Feed.FeedingEventSink(
            sp.GetRequiredService<IGrainFactory>(), new WebhookEventSink(sp.GetRequiredService<IGrainFactory>())));
        services.AddHttpClient(WebhookSender.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = 256,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                ConnectCallback = WebhookSender.ConnectCallback(allowPrivate),
            })
            .RemoveAllLoggers(); // URLs may carry tokens; the delivery log shows outcomes instead
        return services;
    }
}
