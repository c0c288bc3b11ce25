namespace LiveGrains.Grains.Rooms;

/// <summary>
/// The URLs a live's responses offer (api.md "More on rooms and lives"): <c>watch_url</c> from
/// <c>Links:WatchUrlTemplate</c> (placeholders <c>{room_id}</c>, <c>{live_id}</c>; unset: null), <c>playback.hls_url</c>
/// from <c>Ingest:HlsBaseUrl</c> and the live's stream (MediaMTX's layout, <c>{base}/{stream_id}/index.m3u8</c>; unset or
/// no stream: null), and <c>ingest_url</c> by the live's mode from <c>Ingest:RtmpBaseUrl</c> / <c>Ingest:WhipBaseUrl</c>.
/// Read by the rooms, so every silo needs the same settings as the gateways (co-hosted gateways have them).
/// </summary>
public sealed class LiveLinksOptions
{
    public string? WatchUrlTemplate { get; set; }

    public string? HlsBaseUrl { get; set; }

    public string RtmpBaseUrl { get; set; } = "rtmp://localhost:1935/live";

    public string WhipBaseUrl { get; set; } = "http://localhost:8889/live";

    public string? WatchUrl(string roomId, string liveId) =>
        string.IsNullOrWhiteSpace(WatchUrlTemplate)
            ? null
            : WatchUrlTemplate.Replace("{room_id}", Uri.EscapeDataString(roomId), StringComparison.Ordinal)
                .Replace("{live_id}", Uri.EscapeDataString(liveId), StringComparison.Ordinal);

    public string? HlsUrl(string? streamId) =>
        string.IsNullOrWhiteSpace(HlsBaseUrl) || streamId is null ? null : HlsBaseUrl.TrimEnd('/') + "/" + Uri.EscapeDataString(streamId) + "/index.m3u8";

    /// <summary>RTMP encoders get the RTMP URL; WHIP and browser webcams (which publish over WHIP) get the WHIP base.</summary>
    public string IngestUrl(Abstractions.LiveMode mode) => mode == Abstractions.LiveMode.Rtmp ? RtmpBaseUrl : WhipBaseUrl;
}
