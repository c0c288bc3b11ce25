using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly;

namespace LiveGrains.Client;

public static class LiveGrainsClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="LiveGrainsClient"/> as a typed HttpClient with the standard resilience handler. Its retry
    /// resends a request only when resending cannot apply it twice: safe methods (GET, HEAD, OPTIONS), idempotent
    /// ones (PUT, DELETE), and a POST that carries an <c>Idempotency-Key</c> (which the client puts on every POST,
    /// so the gateway answers a resent POST with the first attempt's response). PATCH is never resent.
    /// </summary>
    public static IHttpClientBuilder AddLiveGrainsClient(this IServiceCollection services, Action<LiveGrainsClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<LiveGrainsClientOptions>().Configure(configure)
            .Validate(o => o.BaseAddress is { IsAbsoluteUri: true }, "LiveGrainsClientOptions.BaseAddress must be an absolute URI.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ApiKey), "LiveGrainsClientOptions.ApiKey is required.")
            .ValidateOnStart();

        // The retry settings are read once, when the pipeline is built.
        var settings = new LiveGrainsClientOptions();
        configure(settings);

        var builder = services.AddHttpClient<LiveGrainsClient>((provider, http) =>
        {
            var options = provider.GetRequiredService<IOptions<LiveGrainsClientOptions>>().Value;
            http.BaseAddress = options.BaseAddress;
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        });
        builder.AddStandardResilienceHandler(o =>
        {
            o.Retry.Delay = settings.RetryDelay;
            o.Retry.MaxRetryAttempts = settings.MaxRetryAttempts;
            var transient = o.Retry.ShouldHandle;
            o.Retry.ShouldHandle = async args =>
                await transient(args) && IsSafeToResend(args.Outcome.Result?.RequestMessage ?? args.Context.GetRequestMessage());

            // The live event stream is one long response: the per-attempt and total timeouts bound only the wait for
            // its headers (the client reads it with ResponseHeadersRead), never the stream itself.
        });
        return builder;
    }

    /// <summary>Whether resending this request after a transient failure can never apply it twice.</summary>
    public static bool IsSafeToResend(HttpRequestMessage? request)
    {
        if (request is null)
        {
            return false;
        }

        var method = request.Method;
        if (method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
            || method == HttpMethod.Put || method == HttpMethod.Delete)
        {
            return true;
        }

        return method == HttpMethod.Post && request.Headers.TryGetValues(LiveGrainsClient.IdempotencyKeyHeader, out var keys)
            && keys.Any(k => !string.IsNullOrWhiteSpace(k));
    }
}
