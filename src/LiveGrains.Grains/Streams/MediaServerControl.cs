using System.Globalization;
using System.Net;
using System.Text.Json;
using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Streams;

/// <summary>Makes a media server disconnect a publisher (docs/ingest.md, "Dropping a publisher").</summary>
public interface IMediaServerControl
{
    /// <summary>
    /// Drops <paramref name="publisher"/>; returns when the server confirmed it, or when it says that publisher is gone
    /// already. Throws when the server could not be asked (the caller retries with backoff).
    /// </summary>
    Task DropAsync(PublisherRef publisher, CancellationToken cancellationToken);
}

/// <summary>The media servers' control APIs (configuration section <c>Ingest</c>, read by the silos).</summary>
public sealed class MediaServerControlOptions
{
    /// <summary>
    /// nginx-rtmp's control module location, e.g. <c>http://nginx-rtmp:8080/control</c> (<c>rtmp_control all;</c>);
    /// the drop is <c>GET {url}/drop/publisher?app=..&amp;clientid=..</c>. Unset: nginx-rtmp publishers are dropped at their
    /// next refused <c>on_update</c> only.
    /// </summary>
    public string? NginxRtmpControlUrl { get; set; }

    /// <summary>SRS's HTTP API, e.g. <c>http://srs:1985</c>; the drop is <c>DELETE {url}/api/v1/clients/{client_id}</c>.</summary>
    public string? SrsApiUrl { get; set; }

    /// <summary>MediaMTX's control API, e.g. <c>http://mediamtx:9997</c>; the drop is <c>POST {url}/v3/{rtmpconns|srtconns|webrtcsessions|rtspsessions}/kick/{id}</c>.</summary>
    public string? MediaMtxApiUrl { get; set; }

    /// <summary>How long one control request may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>The HTTP client of the three control APIs.</summary>
public sealed partial class HttpMediaServerControl(
    IHttpClientFactory clients, IOptions<MediaServerControlOptions> options, ILogger<HttpMediaServerControl> logger) : IMediaServerControl
{
    public const string HttpClientName = "media-server-control";

    /// <summary>SRS's ERROR_RTMP_CLIENT_NOT_FOUND: the client is gone already, which is what a drop wants.</summary>
    private const int SrsClientNotFound = 2049;

    public async Task DropAsync(PublisherRef publisher, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var id = Uri.EscapeDataString(publisher.ClientId);
        var request = publisher.Server switch
        {
            MediaServerKind.NginxRtmp when Base(o.NginxRtmpControlUrl) is { } url =>
                new HttpRequestMessage(HttpMethod.Get, $"{url}/drop/publisher?app={Uri.EscapeDataString(publisher.App ?? string.Empty)}&clientid={id}"),
            MediaServerKind.Srs when Base(o.SrsApiUrl) is { } url =>
                new HttpRequestMessage(HttpMethod.Delete, $"{url}/api/v1/clients/{id}"),
            MediaServerKind.MediaMtx when Base(o.MediaMtxApiUrl) is { } url =>
                new HttpRequestMessage(HttpMethod.Post, $"{url}/v3/{MediaMtxCollection(publisher.Protocol)}/kick/{id}"),
            _ => null,
        };
        if (request is null)
        {
            LogNotConfigured(logger, publisher.Server);
            return;
        }

        using (request)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(o.RequestTimeout);
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                LogGone(logger, publisher.Server, publisher.ClientId);
                return;
            }

            response.EnsureSuccessStatusCode();
            if (publisher.Server == MediaServerKind.Srs)
            {
                // SRS answers HTTP 200 with its own code: 0 is done, 2049 is "no such client" (gone already).
                var code = await SrsCodeAsync(response, timeout.Token);
                if (code is not (0 or SrsClientNotFound or null))
                {
                    throw new HttpRequestException($"SRS refused to kick client {publisher.ClientId}: code {code.Value.ToString(CultureInfo.InvariantCulture)}");
                }
            }

            LogDropped(logger, publisher.Server, publisher.ClientId);
        }
    }

    /// <summary>MediaMTX keeps each protocol's connections in its own collection.</summary>
    internal static string MediaMtxCollection(string? protocol) => protocol?.ToLowerInvariant() switch
    {
        "srt" => "srtconns",
        "webrtc" => "webrtcsessions",
        "rtsp" or "rtsps" => "rtspsessions",
        _ => "rtmpconns",
    };

    private static string? Base(string? url) => string.IsNullOrWhiteSpace(url) ? null : url.TrimEnd('/');

    private static async Task<int?> SrsCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), default, cancellationToken);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("code", out var code) && code.TryGetInt32(out var value)
                ? value
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Server}: publisher {ClientId} dropped")]
    private static partial void LogDropped(ILogger logger, MediaServerKind server, string clientId);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Server}: publisher {ClientId} was gone already")]
    private static partial void LogGone(ILogger logger, MediaServerKind server, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Server}: no control API configured (Ingest:NginxRtmpControlUrl, Ingest:SrsApiUrl, Ingest:MediaMtxApiUrl); the publisher is not dropped")]
    private static partial void LogNotConfigured(ILogger logger, MediaServerKind server);
}
