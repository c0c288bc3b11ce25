using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LiveGrains.Client;

/// <summary>
/// The LiveGrains HTTP API v1 as typed calls. Every POST carries a fresh <c>Idempotency-Key</c> (or the one given),
/// so the resilience handler of <see cref="LiveGrainsClientServiceCollectionExtensions.AddLiveGrainsClient"/> can
/// resend it after a transient failure and the gateway applies it once. Error answers throw
/// <see cref="LiveGrainsApiException"/>. Register with <c>services.AddLiveGrainsClient(o => ...)</c>, or construct
/// it around an <see cref="HttpClient"/> whose base address and <c>Authorization</c> header are set.
/// </summary>
public sealed class LiveGrainsClient(HttpClient http)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly JsonSerializerOptions Json = LiveGrainsClientJson.Options;

    // --- Rooms ---------------------------------------------------------------------------------------------------

    public Task<Room> CreateRoomAsync(CreateRoomRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Room>(HttpMethod.Post, "v1/rooms", request, idempotencyKey, cancellationToken);

    public Task<Room> GetRoomAsync(string roomId, CancellationToken cancellationToken = default) =>
        SendAsync<Room>(HttpMethod.Get, $"v1/rooms/{E(roomId)}", null, null, cancellationToken);

    public Task<Room> UpdateRoomAsync(string roomId, UpdateRoomRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Room>(HttpMethod.Patch, $"v1/rooms/{E(roomId)}", request, null, cancellationToken);

    public Task DeleteRoomAsync(string roomId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(HttpMethod.Delete, $"v1/rooms/{E(roomId)}", null, null, cancellationToken);

    public Task<Page<Room>> ListRoomsAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<Room>>(HttpMethod.Get, "v1/rooms" + Query(("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    public Task<Page<Live>> ListRoomLivesAsync(string roomId, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<Live>>(HttpMethod.Get, $"v1/rooms/{E(roomId)}/lives" + Query(("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    public Task<Page<LiveStream>> ListRoomStreamsAsync(string roomId, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<LiveStream>>(HttpMethod.Get, $"v1/rooms/{E(roomId)}/streams" + Query(("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    /// <summary>Starts a new live in the room now; under <c>takeover</c> the prior active live comes back as <c>ClosedLive</c>.</summary>
    public Task<GoLiveResult> GoLiveAsync(string roomId, GoLiveRequest? request = null, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<GoLiveResult>(HttpMethod.Post, $"v1/rooms/{E(roomId)}/go-live", request ?? new GoLiveRequest(), idempotencyKey, cancellationToken);

    public Task<Live> ScheduleLiveAsync(string roomId, ScheduleLiveRequest? request = null, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Live>(HttpMethod.Post, $"v1/rooms/{E(roomId)}/lives", request ?? new ScheduleLiveRequest(), idempotencyKey, cancellationToken);

    // --- Lives ---------------------------------------------------------------------------------------------------

    public Task<Live> GetLiveAsync(string liveId, CancellationToken cancellationToken = default) =>
        SendAsync<Live>(HttpMethod.Get, $"v1/lives/{E(liveId)}", null, null, cancellationToken);

    public Task<Live> UpdateLiveAsync(string liveId, UpdateLiveRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Live>(HttpMethod.Patch, $"v1/lives/{E(liveId)}", request, null, cancellationToken);

    public Task<Page<Live>> ListLivesAsync(LiveQuery? query = null, CancellationToken cancellationToken = default)
    {
        var parameters = new List<(string, object?)>();
        foreach (var status in query?.Status ?? [])
        {
            parameters.Add(("status", status));
        }

        parameters.AddRange([("room_id", query?.RoomId), ("order", query?.Order), ("limit", query?.Limit), ("cursor", query?.Cursor)]);
        return SendAsync<Page<Live>>(HttpMethod.Get, "v1/lives" + Query([.. parameters]), null, null, cancellationToken);
    }

    /// <summary>Every transition of the live, oldest first: who did what.</summary>
    public async Task<IReadOnlyList<LiveTransition>> GetTransitionsAsync(string liveId, CancellationToken cancellationToken = default) =>
        (await SendAsync<Page<LiveTransition>>(HttpMethod.Get, $"v1/lives/{E(liveId)}/transitions", null, null, cancellationToken)).Items;

    public Task<Live> ReadyAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => TransitionAsync(liveId, "ready", by, cancellationToken);

    public Task<Live> StartAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => TransitionAsync(liveId, "start", by, cancellationToken);

    public Task<Live> PauseAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => TransitionAsync(liveId, "pause", by, cancellationToken);

    public Task<Live> ResumeAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => TransitionAsync(liveId, "resume", by, cancellationToken);

    public Task<Live> EndAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => TransitionAsync(liveId, "end", by, cancellationToken);

    private Task<Live> TransitionAsync(string liveId, string transition, string? by, CancellationToken cancellationToken) =>
        SendAsync<Live>(HttpMethod.Post, $"v1/lives/{E(liveId)}/{transition}", new { by }, null, cancellationToken);

    // --- Statistics ----------------------------------------------------------------------------------------------

    public Task JoinAsync(string liveId, string viewerId, CancellationToken cancellationToken = default) => ViewerAsync(liveId, viewerId, "join", cancellationToken);

    public Task HeartbeatAsync(string liveId, string viewerId, CancellationToken cancellationToken = default) => ViewerAsync(liveId, viewerId, "heartbeat", cancellationToken);

    public Task LeaveAsync(string liveId, string viewerId, CancellationToken cancellationToken = default) => ViewerAsync(liveId, viewerId, "leave", cancellationToken);

    private Task ViewerAsync(string liveId, string viewerId, string action, CancellationToken cancellationToken) =>
        SendAsync<ActivityAccepted>(HttpMethod.Post, $"v1/lives/{E(liveId)}/viewers/{E(viewerId)}/{action}", null, null, cancellationToken);

    /// <summary>The batch form for edges and aggregators (up to 10,000 ids a request).</summary>
    public Task<ActivityAccepted> RecordActivityAsync(string liveId, ActivityBatch batch, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<ActivityAccepted>(HttpMethod.Post, $"v1/lives/{E(liveId)}/activity", batch, idempotencyKey, cancellationToken);

    public Task LikeAsync(string liveId, int count = 1, CancellationToken cancellationToken = default) =>
        SendAsync<ActivityAccepted>(HttpMethod.Post, $"v1/lives/{E(liveId)}/likes", new { count }, null, cancellationToken);

    public Task CountChatMessagesAsync(string liveId, int count = 1, CancellationToken cancellationToken = default) =>
        SendAsync<ActivityAccepted>(HttpMethod.Post, $"v1/lives/{E(liveId)}/chat-messages", new { count }, null, cancellationToken);

    public Task<Stats> GetStatsAsync(string liveId, CancellationToken cancellationToken = default) =>
        SendAsync<Stats>(HttpMethod.Get, $"v1/lives/{E(liveId)}/stats", null, null, cancellationToken);

    /// <summary>
    /// The live's server-sent events: the current status and stats first, then <c>status</c> on every transition and
    /// <c>stats</c> at most once a second while they change. Runs until cancelled or the gateway closes the stream.
    /// </summary>
    public async IAsyncEnumerable<LiveEvent> StreamEventsAsync(string liveId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/lives/{E(liveId)}/events");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(body, Encoding.UTF8);
        string name = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    yield return ToEvent(name, data.ToString());
                }

                name = "message";
                data.Clear();
                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }

            if (field == "event")
            {
                name = value;
            }
            else if (field == "data")
            {
                data.Append(data.Length > 0 ? "\n" : "").Append(value);
            }
        }
    }

    private static LiveEvent ToEvent(string name, string data) => name switch
    {
        "status" => new LiveEvent(name, JsonSerializer.Deserialize<Live>(data, Json), null),
        "stats" => new LiveEvent(name, null, JsonSerializer.Deserialize<Stats>(data, Json)),
        _ => new LiveEvent(name, null, null),
    };

    // --- Streams -------------------------------------------------------------------------------------------------

    /// <summary>Creates an ingest stream; the answer is the only time its <c>StreamKey</c> is shown.</summary>
    public Task<LiveStream> CreateStreamAsync(CreateStreamRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<LiveStream>(HttpMethod.Post, "v1/streams", request, idempotencyKey, cancellationToken);

    public Task<LiveStream> GetStreamAsync(string streamId, CancellationToken cancellationToken = default) =>
        SendAsync<LiveStream>(HttpMethod.Get, $"v1/streams/{E(streamId)}", null, null, cancellationToken);

    public Task<Page<LiveStream>> ListStreamsAsync(string? roomId = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<LiveStream>>(HttpMethod.Get, "v1/streams" + Query(("room_id", roomId), ("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    public Task<LiveStream> EnableStreamAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, "enable", cancellationToken);

    public Task<LiveStream> DisableStreamAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, "disable", cancellationToken);

    /// <summary>Replaces the stream key (the old one is refused from now on); the answer shows the new key once.</summary>
    public Task<LiveStream> RotateStreamKeyAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, "rotate-key", cancellationToken);

    public Task<LiveStream> StartRecordingAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, "recording/start", cancellationToken);

    public Task<LiveStream> StopRecordingAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, "recording/stop", cancellationToken);

    private Task<LiveStream> StreamActionAsync(string streamId, string action, CancellationToken cancellationToken) =>
        SendAsync<LiveStream>(HttpMethod.Post, $"v1/streams/{E(streamId)}/{action}", null, null, cancellationToken);

    // --- Webhooks ------------------------------------------------------------------------------------------------

    /// <summary>Registers an endpoint; the answer is the only time its signing <c>Secret</c> is shown (and rotate-secret's).</summary>
    public Task<Webhook> CreateWebhookAsync(CreateWebhookRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Webhook>(HttpMethod.Post, "v1/webhooks", request, idempotencyKey, cancellationToken);

    public async Task<IReadOnlyList<Webhook>> ListWebhooksAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<Page<Webhook>>(HttpMethod.Get, "v1/webhooks", null, null, cancellationToken)).Items;

    public Task<Webhook> GetWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<Webhook>(HttpMethod.Get, $"v1/webhooks/{E(webhookId)}", null, null, cancellationToken);

    public Task DeleteWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(HttpMethod.Delete, $"v1/webhooks/{E(webhookId)}", null, null, cancellationToken);

    public Task<Webhook> EnableWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<Webhook>(HttpMethod.Post, $"v1/webhooks/{E(webhookId)}/enable", null, null, cancellationToken);

    public Task<Webhook> DisableWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<Webhook>(HttpMethod.Post, $"v1/webhooks/{E(webhookId)}/disable", null, null, cancellationToken);

    public Task<Webhook> RotateWebhookSecretAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<Webhook>(HttpMethod.Post, $"v1/webhooks/{E(webhookId)}/rotate-secret", null, null, cancellationToken);

    /// <summary>Sends a signed <c>webhook.test</c> event now and returns the delivery's outcome.</summary>
    public Task<WebhookDelivery> TestWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<WebhookDelivery>(HttpMethod.Post, $"v1/webhooks/{E(webhookId)}/test", null, null, cancellationToken);

    public Task<Page<WebhookDelivery>> ListDeliveriesAsync(string webhookId, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<WebhookDelivery>>(HttpMethod.Get, $"v1/webhooks/{E(webhookId)}/deliveries" + Query(("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    public Task<WebhookDelivery> RedeliverAsync(string webhookId, string eventId, CancellationToken cancellationToken = default) =>
        SendAsync<WebhookDelivery>(HttpMethod.Post, $"v1/webhooks/{E(webhookId)}/deliveries/{E(eventId)}/redeliver", null, null, cancellationToken);

    // --- Access: API keys, tokens, audit -------------------------------------------------------------------------

    public Task<CreatedApiKey> CreateApiKeyAsync(CreateApiKeyRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<CreatedApiKey>(HttpMethod.Post, "v1/api-keys", request, idempotencyKey, cancellationToken);

    public async Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<Page<ApiKey>>(HttpMethod.Get, "v1/api-keys", null, null, cancellationToken)).Items;

    public Task DeleteApiKeyAsync(string keyId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(HttpMethod.Delete, $"v1/api-keys/{E(keyId)}", null, null, cancellationToken);

    /// <summary>Mints a host or viewer token (HS256 JWT) for a user's own app.</summary>
    public Task<IssuedToken> CreateTokenAsync(CreateTokenRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<IssuedToken>(HttpMethod.Post, "v1/tokens", request, null, cancellationToken);

    public Task<Page<AuditEntry>> ListAuditAsync(AuditQuery? query = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<AuditEntry>>(HttpMethod.Get, "v1/audit" + Query(("resource", query?.Resource), ("actor", query?.Actor), ("after", query?.After), ("limit", query?.Limit)), null, null, cancellationToken);

    // --- Plumbing ------------------------------------------------------------------------------------------------

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        if (method == HttpMethod.Post)
        {
            // Set once here, before the resilience handler: every resend of this request carries the same key.
            request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, idempotencyKey ?? NewIdempotencyKey());
        }

        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent || typeof(T) == typeof(object))
        {
            return default!;
        }

        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
            ?? throw new JsonException($"{method} {path} answered an empty body.");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string? code = null, title = null, detail = null;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            code = Text(root, "code");
            title = Text(root, "title");
            detail = Text(root, "detail");
            if (root.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in fields.EnumerateObject())
                {
                    errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                        ? [.. field.Value.EnumerateArray().Select(e => e.ToString())]
                        : [field.Value.ToString()];
                }
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's HTML page, say): the status alone still says what happened.
        }

        var retryAfter = response.Headers.RetryAfter?.Delta;
        throw new LiveGrainsApiException(response.StatusCode, code, title, detail, errors, retryAfter);

        static string? Text(JsonElement root, string name) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private static string NewIdempotencyKey() => "lgc_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static string E(string value) => Uri.EscapeDataString(value);

    private static string Query(params (string Name, object? Value)[] parameters)
    {
        var parts = parameters.Where(p => p.Value is not null)
            .Select(p => $"{p.Name}={Uri.EscapeDataString(Convert.ToString(p.Value, CultureInfo.InvariantCulture)!)}")
            .ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}
