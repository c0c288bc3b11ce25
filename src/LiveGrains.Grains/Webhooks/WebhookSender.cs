using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Webhooks;

/// <summary>The outcome of one HTTP attempt.</summary>
public sealed record WebhookAttempt(bool Success, int? StatusCode, string? Error, string? ResponseBody);

/// <summary>Signs and POSTs one event; never throws for the endpoint's failures.</summary>
public sealed class WebhookSender(IHttpClientFactory clients, IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookSender> logger)
{
    public const string HttpClientName = "livegrains-webhooks";
    public const int MaxLoggedBodyBytes = 1024;
    public const int MaxErrorLength = 512;

    public async Task<WebhookAttempt> SendAsync(WebhookTarget target, ResourceEvent @event, CancellationToken cancellationToken = default)
    {
        try
        {
            if (WebhookUrlPolicy.CheckSyntax(target.Url, out var uri) is { } invalid)
            {
                return new WebhookAttempt(false, null, "Invalid URL: " + invalid, null);
            }

            // Refuse a literal private address before any connection attempt (the connect callback also checks).
            if (!options.Value.AllowPrivateNetworks && WebhookUrlPolicy.LiteralAddress(uri!.Host) is { } literal && !WebhookUrlPolicy.IsPublic(literal))
            {
                return new WebhookAttempt(false, null, "Refused: the URL's address is not public.", null);
            }

            var body = Body(target, @event);
            // The runtime's clock, not LiveGrainsClock: receivers check the signed timestamp against their own wall clock.
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.TryAddWithoutValidation("webhook-id", @event.EventId);
            request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSigner.Sign(target.Secret, @event.EventId, timestamp, body));
            request.Headers.UserAgent.ParseAdd("LiveGrains-Webhooks/1.0");

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Value.AttemptTimeout);
            try
            {
                using var response = await clients.CreateClient(HttpClientName)
                    .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var text = await ReadSomeAsync(response, timeout.Token);
                var status = (int)response.StatusCode;
                var ok = status is >= 200 and < 300;
                WebhookMetrics.Attempts.Add(1, new KeyValuePair<string, object?>("outcome", ok ? "delivered" : "http_error"));
                return new WebhookAttempt(ok, status, ok ? null : $"HTTP {status}", text);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                WebhookMetrics.Attempts.Add(1, new KeyValuePair<string, object?>("outcome", "timeout"));
                return new WebhookAttempt(false, null, $"Timed out after {options.Value.AttemptTimeoutSeconds:0.###} s.", null);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or SocketException or WebhookAddressRefusedException)
        {
            WebhookMetrics.Attempts.Add(1, new KeyValuePair<string, object?>("outcome", "network_error"));
            var message = Describe(ex);
            logger.LogDebug("Webhook {WebhookId} attempt for {EventId} failed: {Error}", target.WebhookId, @event.EventId, message);
            return new WebhookAttempt(false, null, Truncate(message, MaxErrorLength), null);
        }
    }

    /// <summary>
    /// A Gcore-format endpoint's events were translated when queued (<see cref="Compat.GcoreWebhookMessages"/>): their
    /// data is the whole body. Everyone else gets <see cref="Body(ResourceEvent)"/>.
    /// </summary>
    public static byte[] Body(WebhookTarget target, ResourceEvent @event) =>
        target.Format == WebhookFormat.Gcore ? Encoding.UTF8.GetBytes(@event.DataJson) : Body(@event);

    /// <summary>The payload: <c>{type, timestamp, data}</c>; data is the resource with its <c>sequence</c> last.</summary>
    public static byte[] Body(ResourceEvent @event)
    {
        // DataJson is the resource as this service serialized it: an object, spliced as is (no parse per attempt).
        var data = @event.DataJson.AsSpan().Trim();
        if (data.Length < 2 || data[0] != '{' || data[^1] != '}')
        {
            data = "{}";
        }

        var inner = data[1..^1].Trim();
        var sequence = $"\"sequence\":{@event.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        var json = string.Concat(
            "{\"type\":", JsonSerializer.Serialize(@event.Type, LiveGrainsJson.Options),
            ",\"timestamp\":", JsonSerializer.Serialize(@event.Timestamp, LiveGrainsJson.Options),
            ",\"data\":{", inner.IsEmpty ? sequence : string.Concat(inner, ",", sequence), "}}");
        return Encoding.UTF8.GetBytes(json);
    }

    public static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    private static async Task<string?> ReadSomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxLoggedBodyBytes];
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is var n and > 0)
        {
            read += n;
        }

        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static string Describe(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is WebhookAddressRefusedException or SocketException)
            {
                return e.Message;
            }
        }

        return ex.Message;
    }

    /// <summary>
    /// The connect step of the webhook HttpClient: resolves the host itself and connects only to allowed
    /// addresses, so the address checked is the address used (no DNS rebinding between check and connect).
    /// </summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(bool allowPrivateNetworks) =>
        async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = WebhookUrlPolicy.LiteralAddress(host) is { } literal
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, cancellationToken);
            if (!allowPrivateNetworks)
            {
                addresses = [.. addresses.Where(WebhookUrlPolicy.IsPublic)];
            }

            if (addresses.Length == 0)
            {
                throw new WebhookAddressRefusedException($"Refused: '{host}' does not resolve to a public address.");
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
}

public sealed class WebhookAddressRefusedException(string message) : IOException(message);
