using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests.Ingest;

/// <summary>Ingest tests start real processes (gateway, silos, nginx, ffmpeg): never two at once on a shared machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IngestCollection
{
    public const string Name = "ingest";
}

/// <summary>The public API as a host's backend and a media server use it, over real HTTP.</summary>
public sealed class IngestApi(string baseUrl, string apiKey) : IDisposable
{
    public const string HookSecret = "e2e-hook-secret";
    public const string Tenant = "acme";
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly HttpClient _http = new() { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };

    public string BaseUrl => baseUrl;

    public string NginxHookUrl => $"{baseUrl}/v1/ingest-hooks/nginx-rtmp?secret={HookSecret}";

    /// <summary>A co-hosted (embedded, in-memory) gateway process on free loopback ports.</summary>
    public static (ServiceProcess Gateway, string Url, string ApiKey) StartEmbeddedGateway(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var url = $"http://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}";
        var apiKey = "e2e-" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = url,
            ["Ingest__CallbackSecret"] = HookSecret,
            ["Auth__ApiKeys__" + apiKey] = Tenant,
            ["Orleans__ClusterId"] = "ingest-e2e-" + Guid.NewGuid().ToString("N")[..8],
            ["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["ConnectionStrings__redis"] = null,
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            environment[name] = value;
        }

        var gateway = ServiceProcess.StartProject("LiveGrains.Gateway", environment);
        return (gateway, url, apiKey);
    }

    public HttpClient Http
    {
        get
        {
            _http.DefaultRequestHeaders.Authorization ??= new AuthenticationHeaderValue("Bearer", apiKey);
            return _http;
        }
    }

    public async Task<string> CreateRoomAsync(int reconnectWindowSeconds = 60, string takeoverPolicy = "takeover")
    {
        var roomId = "room-" + Guid.NewGuid().ToString("N")[..10];
        await SendAsync(HttpMethod.Post, "/v1/rooms", new { room_id = roomId, reconnect_window_seconds = reconnectWindowSeconds, takeover_policy = takeoverPolicy });
        return roomId;
    }

    public async Task<(string StreamId, string Key)> CreateStreamAsync(string roomId, int? reconnectWindowSeconds = null, string? liveId = null, string? role = null)
    {
        var stream = await SendAsync(HttpMethod.Post, "/v1/streams", new { room_id = roomId, reconnect_window_seconds = reconnectWindowSeconds, live_id = liveId, role });
        return (stream.GetProperty("stream_id").GetString()!, stream.GetProperty("stream_key").GetString()!);
    }

    public Task<JsonElement> GetStreamAsync(string streamId) => SendAsync(HttpMethod.Get, $"/v1/streams/{streamId}");

    public Task<JsonElement> GetLiveAsync(string liveId) => SendAsync(HttpMethod.Get, $"/v1/lives/{liveId}");

    public async Task<string> RotateKeyAsync(string streamId) =>
        (await SendAsync(HttpMethod.Post, $"/v1/streams/{streamId}/rotate-key")).GetProperty("stream_key").GetString()!;

    /// <summary>Polls the stream until its status is <paramref name="status"/>; returns it.</summary>
    public Task<JsonElement> WaitForStreamAsync(string streamId, string status, TimeSpan timeout, Func<string>? context = null) =>
        Eventually.ValueAsync(
            () => GetStreamAsync(streamId),
            s => s.GetProperty("status").GetString() == status,
            timeout,
            $"stream {streamId} is {status}. {context?.Invoke()}",
            TimeSpan.FromMilliseconds(100));

    public Task<JsonElement> WaitForLiveAsync(string liveId, string status, TimeSpan timeout, Func<string>? context = null) =>
        Eventually.ValueAsync(
            () => GetLiveAsync(liveId),
            l => l.GetProperty("status").GetString() == status,
            timeout,
            $"live {liveId} is {status}. {context?.Invoke()}",
            TimeSpan.FromMilliseconds(100));

    /// <summary>An nginx-rtmp style callback, as a media server would send it.</summary>
    public async Task<int> NginxCallbackAsync(string call, string key, string clientId)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["call"] = call, ["name"] = key, ["app"] = "live", ["addr"] = "127.0.0.1", ["clientid"] = clientId,
        });
        using var response = await _http.PostAsync($"/v1/ingest-hooks/nginx-rtmp?secret={HookSecret}", content);
        return (int)response.StatusCode;
    }

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: LiveGrainsJson.Options);
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{method} {path} answered {(int)response.StatusCode}: {text}");
        }

        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public void Dispose() => _http.Dispose();
}
