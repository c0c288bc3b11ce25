using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LiveGrains.Client;

/// <summary>
/// The LiveGrains HTTP API v1 as typed calls, one method per operation of the gateway's OpenAPI document (each names
/// its operation with <see cref="LiveGrainsOperationAttribute"/>). Every POST carries a fresh <c>Idempotency-Key</c>
/// (or the one given), so the resilience handler of
/// <see cref="LiveGrainsClientServiceCollectionExtensions.AddLiveGrainsClient"/> can resend it after a transient failure
/// and the gateway applies it once. Error answers throw <see cref="LiveGrainsApiException"/>. Register with
/// <c>services.AddLiveGrainsClient(o => ...)</c>, or construct it around an <see cref="HttpClient"/> whose base address
/// and <c>Authorization</c> header are set. Listings return a <see cref="Page{T}"/>; pass its <c>NextCursor</c> back,
/// or walk every page with <see cref="EnumerateAsync{T}"/> and the <c>ListAll...</c> helpers.
/// </summary>
public sealed class LiveGrainsClient
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly JsonSerializerOptions Json = LiveGrainsClientJson.Options;

    /// <summary>Each public method's operation, by method name (names are unique: no overloads, so the lookup is exact).</summary>
    private static readonly FrozenDictionary<string, LiveGrainsOperationAttribute> Operations = typeof(LiveGrainsClient)
        .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Select(m => (m.Name, Operation: m.GetCustomAttribute<LiveGrainsOperationAttribute>()))
        .Where(m => m.Operation is not null)
        .ToFrozenDictionary(m => m.Name, m => m.Operation!, StringComparer.Ordinal);

    private readonly HttpClient _http;
    private readonly bool _idempotencyKeys;

    /// <summary>A client whose POSTs carry an <c>Idempotency-Key</c>, around a configured <see cref="HttpClient"/>.</summary>
    public LiveGrainsClient(HttpClient http)
        : this(http, automaticIdempotencyKeys: true)
    {
    }

    /// <param name="http">Base address and <c>Authorization</c> set; its handlers (retries included) are the caller's.</param>
    /// <param name="automaticIdempotencyKeys">
    /// False leaves POSTs without a key unless one is passed: for bulk set-up that never resends, where each key would
    /// cost the gateway a stored response for 24 h. Such POSTs are never resent by the resilience handler.
    /// </param>
    public LiveGrainsClient(HttpClient http, bool automaticIdempotencyKeys)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _idempotencyKeys = automaticIdempotencyKeys;
    }

    /// <summary>The typed-client constructor of <c>AddLiveGrainsClient</c>.</summary>
    [ActivatorUtilitiesConstructor]
    public LiveGrainsClient(HttpClient http, IOptions<LiveGrainsClientOptions> options)
        : this(http, options?.Value.AutomaticIdempotencyKeys ?? true)
    {
    }

    // --- Rooms ---------------------------------------------------------------------------------------------------

    [LiveGrainsOperation("POST", "/v1/rooms")]
    public Task<Room> CreateRoomAsync(CreateRoomRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Room>(Route(), request, idempotencyKey, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/rooms/{roomId}")]
    public Task<Room> GetRoomAsync(string roomId, CancellationToken cancellationToken = default) =>
        SendAsync<Room>(Route(roomId), null, null, cancellationToken);

    /// <summary>Changes the fields given; a field left null keeps its value.</summary>
    [LiveGrainsOperation("PATCH", "/v1/rooms/{roomId}")]
    public Task<Room> UpdateRoomAsync(string roomId, UpdateRoomRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Room>(Route(roomId), request, null, cancellationToken);

    /// <summary>Deletes the room (409 <c>live_already_active</c> while a live is on air); its lives stay readable.</summary>
    [LiveGrainsOperation("DELETE", "/v1/rooms/{roomId}")]
    public Task DeleteRoomAsync(string roomId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(Route(roomId), null, null, cancellationToken);

    /// <summary>The tenant's rooms, newest first; <paramref name="limit"/> 1-100 (20).</summary>
    [LiveGrainsOperation("GET", "/v1/rooms")]
    public Task<Page<Room>> ListRoomsAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<Room>>(Route().Query(("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    /// <summary>Every live the room ever had, newest first.</summary>
    [LiveGrainsOperation("GET", "/v1/rooms/{roomId}/lives")]
    public Task<Page<Live>> ListRoomLivesAsync(string roomId, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<Live>>(Route(roomId).Query(("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/rooms/{roomId}/streams")]
    public Task<Page<LiveStream>> ListRoomStreamsAsync(string roomId, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<LiveStream>>(Route(roomId).Query(("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    /// <summary>Starts a new live in the room now; under <c>takeover</c> the prior active live comes back as <c>ClosedLive</c>.</summary>
    [LiveGrainsOperation("POST", "/v1/rooms/{roomId}/go-live")]
    public Task<GoLiveResult> GoLiveAsync(string roomId, GoLiveRequest? request = null, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<GoLiveResult>(Route(roomId), request ?? new GoLiveRequest(), idempotencyKey, cancellationToken);

    /// <summary>Creates a live in <c>scheduled</c>.</summary>
    [LiveGrainsOperation("POST", "/v1/rooms/{roomId}/lives")]
    public Task<Live> ScheduleLiveAsync(string roomId, ScheduleLiveRequest? request = null, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Live>(Route(roomId), request ?? new ScheduleLiveRequest(), idempotencyKey, cancellationToken);

    // --- Lives ---------------------------------------------------------------------------------------------------

    [LiveGrainsOperation("GET", "/v1/lives/{liveId}")]
    public Task<Live> GetLiveAsync(string liveId, CancellationToken cancellationToken = default) =>
        SendAsync<Live>(Route(liveId), null, null, cancellationToken);

    [LiveGrainsOperation("PATCH", "/v1/lives/{liveId}")]
    public Task<Live> UpdateLiveAsync(string liveId, UpdateLiveRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        object body = request;
        if (request.ClearFields is { Count: > 0 } clear)
        {
            // Null means "unchanged" everywhere else in a request, so a cleared field must be written out explicitly.
            var json = JsonSerializer.SerializeToNode(request, Json)!.AsObject();
            foreach (var field in clear)
            {
                json[field] = null;
            }

            body = json;
        }

        return SendAsync<Live>(Route(liveId), body, null, cancellationToken);
    }

    /// <summary>The tenant's lives, filtered by status (any of several) and room, in the order asked.</summary>
    [LiveGrainsOperation("GET", "/v1/lives")]
    public Task<Page<Live>> ListLivesAsync(LiveQuery? query = null, CancellationToken cancellationToken = default)
    {
        var parameters = new List<(string, object?)>();
        foreach (var status in query?.Status ?? [])
        {
            parameters.Add(("status", status));
        }

        parameters.AddRange([("room_id", query?.RoomId), ("order", query?.Order), ("limit", query?.Limit), ("cursor", query?.Cursor)]);
        return SendAsync<Page<Live>>(Route().Query([.. parameters]), null, null, cancellationToken);
    }

    /// <summary>Every transition of the live, oldest first: who did what.</summary>
    [LiveGrainsOperation("GET", "/v1/lives/{liveId}/transitions")]
    public async Task<IReadOnlyList<LiveTransition>> GetTransitionsAsync(string liveId, CancellationToken cancellationToken = default) =>
        (await SendAsync<TransitionsResponse>(Route(liveId), null, null, cancellationToken)).Items;

    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/ready")]
    public Task<Live> ReadyAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => LiveActionAsync(liveId, by, cancellationToken);

    /// <summary>scheduled or ready -> live; obeys the room's takeover policy.</summary>
    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/start")]
    public Task<Live> StartAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => LiveActionAsync(liveId, by, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/pause")]
    public Task<Live> PauseAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => LiveActionAsync(liveId, by, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/resume")]
    public Task<Live> ResumeAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => LiveActionAsync(liveId, by, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/end")]
    public Task<Live> EndAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => LiveActionAsync(liveId, by, cancellationToken);

    /// <summary>Records that the host entered the live (its <c>host.state</c> becomes <c>entered</c>).</summary>
    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/host/enter")]
    public Task<Live> EnterHostAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => LiveActionAsync(liveId, by, cancellationToken);

    /// <summary>Records that the host left the live (its <c>host.state</c> becomes <c>exited</c>).</summary>
    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/host/exit")]
    public Task<Live> ExitHostAsync(string liveId, string? by = null, CancellationToken cancellationToken = default) => LiveActionAsync(liveId, by, cancellationToken);

    private Task<Live> LiveActionAsync(string liveId, string? by, CancellationToken cancellationToken, [CallerMemberName] string operation = "") =>
        SendAsync<Live>(Route(liveId, operation: operation), new TransitionRequest(by), null, cancellationToken);

    // --- Statistics ----------------------------------------------------------------------------------------------

    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/viewers/{viewerId}/join")]
    public Task<ActivityAccepted> JoinAsync(string liveId, string viewerId, CancellationToken cancellationToken = default) => ViewerAsync(liveId, viewerId, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/viewers/{viewerId}/heartbeat")]
    public Task<ActivityAccepted> HeartbeatAsync(string liveId, string viewerId, CancellationToken cancellationToken = default) => ViewerAsync(liveId, viewerId, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/viewers/{viewerId}/leave")]
    public Task<ActivityAccepted> LeaveAsync(string liveId, string viewerId, CancellationToken cancellationToken = default) => ViewerAsync(liveId, viewerId, cancellationToken);

    private Task<ActivityAccepted> ViewerAsync(string liveId, string viewerId, CancellationToken cancellationToken, [CallerMemberName] string operation = "") =>
        SendAsync<ActivityAccepted>(Route(liveId, viewerId, operation), null, null, cancellationToken);

    /// <summary>The batch form for edges and aggregators (up to 10,000 ids a request); joins over the join limit come back as <c>Rejected</c>.</summary>
    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/activity")]
    public Task<ActivityAccepted> RecordActivityAsync(string liveId, ActivityBatch batch, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<ActivityAccepted>(Route(liveId), batch, idempotencyKey, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/likes")]
    public Task<ActivityAccepted> LikeAsync(string liveId, int count = 1, CancellationToken cancellationToken = default) =>
        SendAsync<ActivityAccepted>(Route(liveId), new CountRequest(count), null, cancellationToken);

    /// <summary>Counts chat messages (409 <c>chat_disabled</c> while the live's chat is off).</summary>
    [LiveGrainsOperation("POST", "/v1/lives/{liveId}/chat-messages")]
    public Task<ActivityAccepted> CountChatMessagesAsync(string liveId, int count = 1, CancellationToken cancellationToken = default) =>
        SendAsync<ActivityAccepted>(Route(liveId), new CountRequest(count), null, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/lives/{liveId}/stats")]
    public Task<Stats> GetStatsAsync(string liveId, CancellationToken cancellationToken = default) =>
        SendAsync<Stats>(Route(liveId), null, null, cancellationToken);

    /// <summary>
    /// The live's server-sent events: the current status and stats first, then <c>status</c> on every transition and
    /// <c>stats</c> at most once a second while they change. Runs until cancelled or the gateway closes the stream.
    /// </summary>
    [LiveGrainsOperation("GET", "/v1/lives/{liveId}/events")]
    public async IAsyncEnumerable<LiveEvent> StreamEventsAsync(string liveId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var route = Route(liveId);
        using var request = new HttpRequestMessage(route.Method, route.Path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
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
    [LiveGrainsOperation("POST", "/v1/streams")]
    public Task<LiveStream> CreateStreamAsync(CreateStreamRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<LiveStream>(Route(), request, idempotencyKey, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/streams/{streamId}")]
    public Task<LiveStream> GetStreamAsync(string streamId, CancellationToken cancellationToken = default) =>
        SendAsync<LiveStream>(Route(streamId), null, null, cancellationToken);

    /// <summary>Renames, rebinds (<c>live_id</c>) or reconfigures the stream; a field left null keeps its value.</summary>
    [LiveGrainsOperation("PATCH", "/v1/streams/{streamId}")]
    public Task<LiveStream> UpdateStreamAsync(string streamId, UpdateStreamRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<LiveStream>(Route(streamId), request, null, cancellationToken);

    /// <summary>Deletes the stream: its key is refused from now on and a connected publisher is dropped.</summary>
    [LiveGrainsOperation("DELETE", "/v1/streams/{streamId}")]
    public Task DeleteStreamAsync(string streamId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(Route(streamId), null, null, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/streams")]
    public Task<Page<LiveStream>> ListStreamsAsync(string? roomId = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<LiveStream>>(Route().Query(("room_id", roomId), ("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/streams/{streamId}/enable")]
    public Task<LiveStream> EnableStreamAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/streams/{streamId}/disable")]
    public Task<LiveStream> DisableStreamAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, cancellationToken);

    /// <summary>Replaces the stream key (the old one is refused from now on); the answer shows the new key once.</summary>
    [LiveGrainsOperation("POST", "/v1/streams/{streamId}/rotate-key")]
    public Task<LiveStream> RotateStreamKeyAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/streams/{streamId}/recording/start")]
    public Task<LiveStream> StartRecordingAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/streams/{streamId}/recording/stop")]
    public Task<LiveStream> StopRecordingAsync(string streamId, CancellationToken cancellationToken = default) => StreamActionAsync(streamId, cancellationToken);

    private Task<LiveStream> StreamActionAsync(string streamId, CancellationToken cancellationToken, [CallerMemberName] string operation = "") =>
        SendAsync<LiveStream>(Route(streamId, operation: operation), null, null, cancellationToken);

    // --- Videos --------------------------------------------------------------------------------------------------

    /// <summary>The tenant's recordings, optionally of one live.</summary>
    [LiveGrainsOperation("GET", "/v1/videos")]
    public Task<Page<Video>> ListVideosAsync(string? liveId = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<Video>>(Route().Query(("live_id", liveId), ("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/videos/{videoId}")]
    public Task<Video> GetVideoAsync(string videoId, CancellationToken cancellationToken = default) =>
        SendAsync<Video>(Route(videoId), null, null, cancellationToken);

    [LiveGrainsOperation("DELETE", "/v1/videos/{videoId}")]
    public Task DeleteVideoAsync(string videoId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(Route(videoId), null, null, cancellationToken);

    // --- Destinations --------------------------------------------------------------------------------------------

    [LiveGrainsOperation("POST", "/v1/rooms/{roomId}/destinations")]
    public Task<Destination> CreateDestinationAsync(string roomId, CreateDestinationRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Destination>(Route(roomId), request, idempotencyKey, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/rooms/{roomId}/destinations")]
    public async Task<IReadOnlyList<Destination>> ListDestinationsAsync(string roomId, CancellationToken cancellationToken = default) =>
        (await SendAsync<Page<Destination>>(Route(roomId), null, null, cancellationToken)).Items;

    [LiveGrainsOperation("GET", "/v1/destinations/{destinationId}")]
    public Task<Destination> GetDestinationAsync(string destinationId, CancellationToken cancellationToken = default) =>
        SendAsync<Destination>(Route(destinationId), null, null, cancellationToken);

    [LiveGrainsOperation("PATCH", "/v1/destinations/{destinationId}")]
    public Task<Destination> UpdateDestinationAsync(string destinationId, UpdateDestinationRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Destination>(Route(destinationId), request, null, cancellationToken);

    [LiveGrainsOperation("DELETE", "/v1/destinations/{destinationId}")]
    public Task DeleteDestinationAsync(string destinationId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(Route(destinationId), null, null, cancellationToken);

    // --- Presets -------------------------------------------------------------------------------------------------

    [LiveGrainsOperation("POST", "/v1/presets")]
    public Task<Preset> CreatePresetAsync(CreatePresetRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Preset>(Route(), request, idempotencyKey, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/presets")]
    public async Task<IReadOnlyList<Preset>> ListPresetsAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<Page<Preset>>(Route(), null, null, cancellationToken)).Items;

    [LiveGrainsOperation("GET", "/v1/presets/{presetId}")]
    public Task<Preset> GetPresetAsync(string presetId, CancellationToken cancellationToken = default) =>
        SendAsync<Preset>(Route(presetId), null, null, cancellationToken);

    [LiveGrainsOperation("PATCH", "/v1/presets/{presetId}")]
    public Task<Preset> UpdatePresetAsync(string presetId, UpdatePresetRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Preset>(Route(presetId), request, null, cancellationToken);

    [LiveGrainsOperation("DELETE", "/v1/presets/{presetId}")]
    public Task DeletePresetAsync(string presetId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(Route(presetId), null, null, cancellationToken);

    // --- Event feed ----------------------------------------------------------------------------------------------

    /// <summary>
    /// One page of the tenant's event feed after <paramref name="after"/> (null: from the oldest kept). Its
    /// <c>NextCursor</c> is always set: store it and read on from it later; it equals <paramref name="after"/> when
    /// nothing new has happened. <paramref name="types"/> keeps only those event types.
    /// </summary>
    [LiveGrainsOperation("GET", "/v1/events")]
    public Task<Page<FeedEvent>> ListEventsAsync(string? after = null, IReadOnlyList<string>? types = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        var parameters = new List<(string, object?)> { ("after", after) };
        foreach (var type in types ?? [])
        {
            parameters.Add(("types", type));
        }

        parameters.Add(("limit", limit));
        return SendAsync<Page<FeedEvent>>(Route().Query([.. parameters]), null, null, cancellationToken);
    }

    /// <summary>
    /// Every event after <paramref name="after"/> up to now, page by page, then the sequence ends. A consumer that
    /// must resume where it stopped pages with <see cref="ListEventsAsync"/> itself and stores each page's
    /// <c>NextCursor</c> once it has handled the page.
    /// </summary>
    public async IAsyncEnumerable<FeedEvent> ReadEventsAsync(
        string? after = null, IReadOnlyList<string>? types = null, int? pageSize = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var page = await ListEventsAsync(after, types, pageSize, cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            // The feed's cursor stands still when nothing is new: that is the end of "up to now".
            if (page.NextCursor is null || page.NextCursor == after)
            {
                yield break;
            }

            after = page.NextCursor;
        }
    }

    // --- Webhooks ------------------------------------------------------------------------------------------------

    /// <summary>Registers an endpoint; the answer is the only time its signing <c>Secret</c> is shown (and rotate-secret's).</summary>
    [LiveGrainsOperation("POST", "/v1/webhooks")]
    public Task<Webhook> CreateWebhookAsync(CreateWebhookRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Webhook>(Route(), request, idempotencyKey, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/webhooks")]
    public async Task<IReadOnlyList<Webhook>> ListWebhooksAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<Page<Webhook>>(Route(), null, null, cancellationToken)).Items;

    [LiveGrainsOperation("GET", "/v1/webhooks/{webhookId}")]
    public Task<Webhook> GetWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<Webhook>(Route(webhookId), null, null, cancellationToken);

    [LiveGrainsOperation("DELETE", "/v1/webhooks/{webhookId}")]
    public Task DeleteWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(Route(webhookId), null, null, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/webhooks/{webhookId}/enable")]
    public Task<Webhook> EnableWebhookAsync(string webhookId, CancellationToken cancellationToken = default) => WebhookActionAsync(webhookId, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/webhooks/{webhookId}/disable")]
    public Task<Webhook> DisableWebhookAsync(string webhookId, CancellationToken cancellationToken = default) => WebhookActionAsync(webhookId, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/webhooks/{webhookId}/rotate-secret")]
    public Task<Webhook> RotateWebhookSecretAsync(string webhookId, CancellationToken cancellationToken = default) => WebhookActionAsync(webhookId, cancellationToken);

    private Task<Webhook> WebhookActionAsync(string webhookId, CancellationToken cancellationToken, [CallerMemberName] string operation = "") =>
        SendAsync<Webhook>(Route(webhookId, operation: operation), null, null, cancellationToken);

    /// <summary>Sends a signed <c>webhook.test</c> event now and returns the delivery's outcome.</summary>
    [LiveGrainsOperation("POST", "/v1/webhooks/{webhookId}/test")]
    public Task<WebhookDelivery> TestWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<WebhookDelivery>(Route(webhookId), null, null, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/webhooks/{webhookId}/deliveries")]
    public Task<Page<WebhookDelivery>> ListDeliveriesAsync(string webhookId, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<WebhookDelivery>>(Route(webhookId).Query(("limit", limit), ("cursor", cursor)), null, null, cancellationToken);

    [LiveGrainsOperation("POST", "/v1/webhooks/{webhookId}/deliveries/{eventId}/redeliver")]
    public Task<WebhookDelivery> RedeliverAsync(string webhookId, string eventId, CancellationToken cancellationToken = default) =>
        SendAsync<WebhookDelivery>(Route(webhookId, eventId), null, null, cancellationToken);

    // --- Access: API keys, tokens, audit -------------------------------------------------------------------------

    [LiveGrainsOperation("POST", "/v1/api-keys")]
    public Task<CreatedApiKey> CreateApiKeyAsync(CreateApiKeyRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<CreatedApiKey>(Route(), request, idempotencyKey, cancellationToken);

    [LiveGrainsOperation("GET", "/v1/api-keys")]
    public async Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<Page<ApiKey>>(Route(), null, null, cancellationToken)).Items;

    /// <summary>Revokes the key: every gateway refuses it within seconds.</summary>
    [LiveGrainsOperation("DELETE", "/v1/api-keys/{keyId}")]
    public Task DeleteApiKeyAsync(string keyId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(Route(keyId), null, null, cancellationToken);

    /// <summary>Mints a host or viewer token (HS256 JWT) for a user's own app.</summary>
    [LiveGrainsOperation("POST", "/v1/tokens")]
    public Task<IssuedToken> CreateTokenAsync(CreateTokenRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<IssuedToken>(Route(), request, null, cancellationToken);

    /// <summary>Control actions, newest first; pass <c>NextCursor</c> as <see cref="AuditQuery.After"/> for the next page.</summary>
    [LiveGrainsOperation("GET", "/v1/audit")]
    public Task<Page<AuditEntry>> ListAuditAsync(AuditQuery? query = null, CancellationToken cancellationToken = default) =>
        SendAsync<Page<AuditEntry>>(Route().Query(("resource", query?.Resource), ("actor", query?.Actor), ("after", query?.After), ("limit", query?.Limit)), null, null, cancellationToken);

    // --- Paging --------------------------------------------------------------------------------------------------

    /// <summary>
    /// Every item of a cursor-paged listing, reading the next page only when the caller gets there:
    /// <c>EnumerateAsync((cursor, ct) => client.ListRoomLivesAsync(roomId, cursor: cursor, cancellationToken: ct))</c>.
    /// </summary>
    public static async IAsyncEnumerable<T> EnumerateAsync<T>(
        Func<string?, CancellationToken, Task<Page<T>>> readPage, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readPage);
        string? cursor = null;
        do
        {
            var page = await readPage(cursor, cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null);
    }

    /// <summary>Every room of the tenant, newest first, <paramref name="pageSize"/> a request.</summary>
    public IAsyncEnumerable<Room> ListAllRoomsAsync(int? pageSize = null, CancellationToken cancellationToken = default) =>
        EnumerateAsync((cursor, ct) => ListRoomsAsync(pageSize, cursor, ct), cancellationToken);

    /// <summary>Every live matching <paramref name="query"/> (its <c>Cursor</c> is where it starts).</summary>
    public IAsyncEnumerable<Live> ListAllLivesAsync(LiveQuery? query = null, CancellationToken cancellationToken = default)
    {
        var first = query ?? new LiveQuery();
        return EnumerateAsync((cursor, ct) => ListLivesAsync(first with { Cursor = cursor ?? first.Cursor }, ct), cancellationToken);
    }

    /// <summary>Every stream of the tenant, or of one room.</summary>
    public IAsyncEnumerable<LiveStream> ListAllStreamsAsync(string? roomId = null, int? pageSize = null, CancellationToken cancellationToken = default) =>
        EnumerateAsync((cursor, ct) => ListStreamsAsync(roomId, pageSize, cursor, ct), cancellationToken);

    /// <summary>Every video of the tenant, or of one live.</summary>
    public IAsyncEnumerable<Video> ListAllVideosAsync(string? liveId = null, int? pageSize = null, CancellationToken cancellationToken = default) =>
        EnumerateAsync((cursor, ct) => ListVideosAsync(liveId, pageSize, cursor, ct), cancellationToken);

    // --- Plumbing ------------------------------------------------------------------------------------------------

    /// <summary>
    /// The request of the calling public method: its operation's method, and its path template filled with
    /// <paramref name="first"/> and <paramref name="second"/> (escaped), relative to the base address.
    /// </summary>
    private static Request Route(string? first = null, string? second = null, [CallerMemberName] string operation = "")
    {
        if (!Operations.TryGetValue(operation, out var attribute))
        {
            throw new InvalidOperationException($"{operation} names no LiveGrains operation.");
        }

        var values = new[] { first, second }.Where(v => v is not null).ToArray();
        var path = new StringBuilder(attribute.Path.Length + 32);
        var used = 0;
        foreach (var segment in attribute.Path.TrimStart('/').Split('/'))
        {
            path.Append(path.Length == 0 ? "" : "/");
            if (segment.StartsWith('{'))
            {
                if (used == values.Length)
                {
                    throw new InvalidOperationException($"{operation}: no value for {segment} of {attribute}.");
                }

                ArgumentException.ThrowIfNullOrEmpty(values[used], segment.Trim('{', '}'));
                path.Append(Uri.EscapeDataString(values[used++]!));
            }
            else
            {
                path.Append(segment);
            }
        }

        if (used != values.Length)
        {
            throw new InvalidOperationException($"{operation}: more values than placeholders in {attribute}.");
        }

        return new Request(new HttpMethod(attribute.Method), path.ToString());
    }

    private readonly record struct Request(HttpMethod Method, string Path)
    {
        public Request Query(params (string Name, object? Value)[] parameters)
        {
            var parts = parameters.Where(p => p.Value is not null)
                .Select(p => $"{p.Name}={Uri.EscapeDataString(Convert.ToString(p.Value, CultureInfo.InvariantCulture)!)}")
                .ToList();
            return parts.Count == 0 ? this : this with { Path = Path + "?" + string.Join('&', parts) };
        }
    }

    private async Task<T> SendAsync<T>(Request route, object? body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(route.Method, route.Path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        if (route.Method == HttpMethod.Post && (idempotencyKey ?? (_idempotencyKeys ? NewIdempotencyKey() : null)) is { } key)
        {
            // Set once here, before the resilience handler: every resend of this request carries the same key.
            request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, key);
        }

        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent || typeof(T) == typeof(object))
        {
            return default!;
        }

        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
            ?? throw new JsonException($"{route.Method} {route.Path} answered an empty body.");
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
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
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
        var request = response.RequestMessage;
        throw new LiveGrainsApiException(response.StatusCode, code, title, detail, errors, retryAfter, request?.Method, request?.RequestUri?.AbsolutePath);

        static string? Text(JsonElement root, string name) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private static string NewIdempotencyKey() => "lgc_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
