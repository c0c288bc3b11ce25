using System.Collections.Concurrent;
using System.Net;
using LiveGrains.Client;
using Microsoft.Extensions.DependencyInjection;

namespace LiveGrains.Gateway.Tests.Client;

/// <summary>
/// A <see cref="LiveGrainsClient"/> built the way an application builds it (<c>AddLiveGrainsClient</c>, standard
/// resilience handler included), whose primary handler is the test server's: the real gateway pipeline, in memory.
/// </summary>
public sealed class ClientKit : IDisposable
{
    private readonly ServiceProvider _services;

    public ClientKit(GatewayFactory factory, string apiKey, Func<DelegatingHandler>? betweenRetryAndGateway = null)
    {
        var services = new ServiceCollection();
        var builder = services.AddLiveGrainsClient(o =>
        {
            o.BaseAddress = factory.Server.BaseAddress;
            o.ApiKey = apiKey;
            o.RetryDelay = TimeSpan.FromMilliseconds(10);
        });
        builder.ConfigurePrimaryHttpMessageHandler(() => factory.Server.CreateHandler());
        if (betweenRetryAndGateway is not null)
        {
            // Added after the resilience handler, so it sits inside it: every retry passes through it.
            builder.AddHttpMessageHandler(betweenRetryAndGateway);
        }

        _services = services.BuildServiceProvider();
        Client = _services.GetRequiredService<LiveGrainsClient>();
    }

    public LiveGrainsClient Client { get; }

    /// <summary>The typed client's configured HttpClient (same handlers), for requests the client itself never makes.</summary>
    public HttpClient RawHttp => _services.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(LiveGrainsClient));

    public void Dispose() => _services.Dispose();
}

/// <summary>
/// Simulates a transient failure the client cannot tell from a crash: the first <see cref="LoseResponses"/> requests
/// matching <see cref="Matches"/> reach the gateway (and are applied), and their answers are replaced by a 503.
/// With <see cref="NeverForward"/> they do not even reach the gateway.
/// </summary>
public sealed class LossyHandler : DelegatingHandler
{
    public Func<HttpRequestMessage, bool> Matches { get; init; } = _ => true;

    public int LoseResponses { get; init; } = 1;

    public bool NeverForward { get; init; }

    public ConcurrentQueue<(HttpMethod Method, string? IdempotencyKey)> Attempts { get; } = new();

    private int _lost;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!Matches(request))
        {
            return await base.SendAsync(request, cancellationToken);
        }

        Attempts.Enqueue((request.Method, request.Headers.TryGetValues(LiveGrainsClient.IdempotencyKeyHeader, out var keys) ? keys.Single() : null));
        if (NeverForward)
        {
            return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request };
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (Interlocked.Increment(ref _lost) <= LoseResponses)
        {
            response.Dispose();
            return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request };
        }

        return response;
    }
}
