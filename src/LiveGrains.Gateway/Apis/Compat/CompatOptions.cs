namespace LiveGrains.Gateway.Apis.Compat;

/// <summary>Configuration section <c>Compat</c>: what the seed platforms' adapters need beyond <c>/v1</c>'s settings.</summary>
public sealed class CompatOptions
{
    public LiveKitCompatOptions LiveKit { get; set; } = new();

    public FourthwallCompatOptions Fourthwall { get; set; } = new();

    /// <summary>From <c>Ingest:RtmpBaseUrl</c>: where hosts publish (PRISM's rtmpPath, the LiveKit-based platform's rtmp.url).</summary>
    public string RtmpBaseUrl { get; set; } = "rtmp://localhost:1935/live";

    /// <summary>From <c>Ingest:WhipBaseUrl</c>: the WHIP endpoint of a stream is <c>{base}/{stream_id}/whip</c>.</summary>
    public string WhipBaseUrl { get; set; } = "http://localhost:8889/live";

    /// <summary><c>Links:WatchUrlTemplate</c> (api.md), e.g. <c>https://watch.example.com/{room_id}/{live_id}</c>: PRISM's liveLink.</summary>
    public string? WatchUrlTemplate { get; set; }

    public string? WatchUrl(string roomId, string liveId) =>
        string.IsNullOrEmpty(WatchUrlTemplate)
            ? null
            : WatchUrlTemplate.Replace("{room_id}", Uri.EscapeDataString(roomId), StringComparison.Ordinal)
                .Replace("{live_id}", Uri.EscapeDataString(liveId), StringComparison.Ordinal);
}

/// <summary><c>Compat:LiveKit</c>: the LiveKit server's API key and secret that sign <c>livekit_token</c>.</summary>
public sealed class LiveKitCompatOptions
{
    public string? ApiKey { get; set; }

    public string? ApiSecret { get; set; }

    /// <summary>How long a minted LiveKit token is valid.</summary>
    public int TokenTtlSeconds { get; set; } = 6 * 3600;

    public bool IsConfigured => !string.IsNullOrEmpty(ApiKey) && !string.IsNullOrEmpty(ApiSecret);
}

/// <summary><c>Compat:Fourthwall</c>.</summary>
public sealed class FourthwallCompatOptions
{
    /// <summary>The room a shop streams in (one per tenant: Fourthwall has no rooms, a shop streams as one channel).</summary>
    public string RoomId { get; set; } = "fourthwall-shop";
}
