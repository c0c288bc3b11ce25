using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LiveGrains.Client;

namespace LiveGrains.Bench;

/// <summary>A scenario could not be measured, e.g. because the gateway lacks its endpoint.</summary>
public sealed partial class ScenarioSkippedException(string reason) : Exception(reason)
{
    public static ScenarioSkippedException For(HttpMethod method, string path, int status, string body) =>
        ForCode(method, path, status, ReadCode(body));

    /// <summary>A set-up call of the typed client failed: the same report as for a raw request.</summary>
    public static ScenarioSkippedException For(LiveGrainsApiException failure) =>
        ForCode(failure.Method ?? HttpMethod.Get, failure.Path ?? "?", (int)failure.Status, failure.Code);

    private static ScenarioSkippedException ForCode(HttpMethod method, string path, int status, string? code)
    {
        // The route, not the ids or the query (which may hold the callback secret), says which endpoint it is.
        var route = IdSegment().Replace(path.Split('?')[0], "/$1/{id}");
        var detail = $"{method} {route}{(code is null ? string.Empty : ", code " + code)}";
        return new ScenarioSkippedException(status is 404 or 405 or 501
            ? $"endpoint missing (status {status}, {detail})"
            : $"unexpected status {status} ({detail})");
    }

    [GeneratedRegex("/(rooms|lives|viewers|streams)/[^/]+")]
    private static partial Regex IdSegment();

    private static string? ReadCode(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("code", out var code)
                ? code.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// What setups share: the client, the options, and lives that several scenarios reuse. Set-up requests go through the
/// typed client (src/LiveGrains.Client); the measured requests are pre-built raw ones, so that the load generator's
/// own cost stays as small as it can be.
/// </summary>
public sealed class BenchContext(HttpClient client, BenchOptions options)
{
    private string[]? _spreadLives;
    private (string KeyId, string Secret)? _signingKey;

    public HttpClient Client { get; } = client;

    /// <summary>
    /// The typed client over <see cref="Client"/>, without automatic Idempotency-Keys: set-up is never resent, and a key
    /// on each of thousands of set-up POSTs would leave as many stored responses in the gateway that is being measured.
    /// </summary>
    public LiveGrainsClient Api { get; } = new(client, automaticIdempotencyKeys: false);

    public BenchOptions Options { get; } = options;

    /// <summary>One live in each of <see cref="BenchOptions.Rooms"/> rooms, created once per invocation.</summary>
    public async Task<string[]> SpreadLivesAsync(CancellationToken cancellationToken) =>
        _spreadLives ??= await RoomsWithLivesAsync("bench-s", Options.Rooms, cancellationToken);

    /// <summary>Rooms <c>{prefix}0</c> to <c>{prefix}{count-1}</c>, each with a live on air; returns the lives' ids.</summary>
    public Task<string[]> RoomsWithLivesAsync(string prefix, int count, CancellationToken cancellationToken) =>
        ForEachAsync(count, async (i, ct) =>
        {
            await CreateRoomAsync($"{prefix}{i}", ct);
            return await GoLiveAsync($"{prefix}{i}", ct);
        }, cancellationToken);

    /// <summary>Creates the room; one left by an earlier scenario or invocation (409) is as good.</summary>
    public Task CreateRoomAsync(string roomId, CancellationToken cancellationToken) =>
        SetUpAsync(async api =>
        {
            try
            {
                await api.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId), cancellationToken: cancellationToken);
            }
            catch (LiveGrainsApiException e) when (e.Status == HttpStatusCode.Conflict)
            {
                // The room exists: the scenarios only need it to.
            }

            return true;
        });

    /// <summary>A room whose host is <paramref name="hostId"/>, so a host token's go-live pays the host-only check.</summary>
    public Task CreateRoomAsync(string roomId, string hostId, CancellationToken cancellationToken) =>
        SetUpAsync(async api =>
        {
            try
            {
                await api.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId, HostId: hostId), cancellationToken: cancellationToken);
            }
            catch (LiveGrainsApiException e) when (e.Status == HttpStatusCode.Conflict)
            {
                // The room exists: the scenarios only need it to.
            }

            return true;
        });

    /// <summary>A managed <c>write</c> key made once per invocation with the bench's admin key: the key tokens are signed with.</summary>
    public async Task<(string KeyId, string Secret)> SigningKeyAsync(CancellationToken cancellationToken)
    {
        if (_signingKey is { } known)
        {
            return known;
        }

        var created = await SetUpAsync(api => api.CreateApiKeyAsync(new CreateApiKeyRequest("bench-tokens", ["write"]), cancellationToken: cancellationToken));
        _signingKey = (created.KeyId, created.Secret);
        return _signingKey.Value;
    }

    public Task<string> GoLiveAsync(string roomId, CancellationToken cancellationToken) =>
        SetUpAsync(async api => (await api.GoLiveAsync(roomId, new GoLiveRequest(Title: "b"), cancellationToken: cancellationToken)).Live.LiveId);

    /// <summary>Runs set-up calls of the typed client; an error answer skips the scenario, reported as for a raw request.</summary>
    public async Task<T> SetUpAsync<T>(Func<LiveGrainsClient, Task<T>> setUp)
    {
        try
        {
            return await setUp(Api);
        }
        catch (LiveGrainsApiException e)
        {
            throw ScenarioSkippedException.For(e);
        }
        catch (JsonException e)
        {
            // The stateless peer answers a subset of the fields; one it answers in another shape cannot be set up.
            throw new ScenarioSkippedException($"unexpected answer to a set-up request ({e.Message})");
        }
    }

    /// <summary>Runs <paramref name="body"/> for 0..count-1: the first alone, so a missing endpoint fails once, then concurrently.</summary>
    public async Task<T[]> ForEachAsync<T>(int count, Func<int, CancellationToken, Task<T>> body, CancellationToken cancellationToken, int? parallelism = null)
    {
        var results = new T[count];
        if (count == 0)
        {
            return results;
        }

        results[0] = await body(0, cancellationToken);
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism ?? Options.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(1, count - 1), options, async (i, ct) => results[i] = await body(i, ct));
        return results;
    }
}

/// <summary>Every scenario: a setup that prepares the gateway and returns the workload to measure.</summary>
public static class Scenarios
{
    public const string Alive = "alive";

    /// <summary>Lives on air with no traffic: the gateway's idle CPU and memory per live (<see cref="LiveGrains.Bench.IdleLives"/>), not a load.</summary>
    public const string IdleLives = "idle-lives";

    /// <summary>Ids per batch activity request when filling or heartbeating a million viewers (the API's maximum).</summary>
    private const int MillionBatch = 10_000;
    private static readonly TimeSpan HeartbeatPeriod = TimeSpan.FromSeconds(30);
    private static readonly byte[] GoLiveBody = """{"title":"b"}"""u8.ToArray();
    private static readonly byte[] LikeBody = """{"count":1}"""u8.ToArray();

    public static IReadOnlyDictionary<string, Func<BenchContext, CancellationToken, Task<Workload>>> All { get; } =
        new Dictionary<string, Func<BenchContext, CancellationToken, Task<Workload>>>
        {
            [Alive] = (_, _) => Task.FromResult(new Workload { NextRequest = _ => new HttpRequestMessage(HttpMethod.Get, "/alive"), ExpectedStatus = 200 }),
            ["golive"] = GoLiveAsync,
            ["join-spread"] = JoinSpreadAsync,
            ["like-spread"] = LikeSpreadAsync,
            ["join-hot"] = JoinHotAsync,
            ["activity-batch"] = ActivityBatchAsync,
            ["callbacks"] = CallbacksAsync,
            ["callbacks-drop"] = DropScenario.SetUpAsync,
            ["million-viewers"] = MillionViewersAsync,
            ["transitions"] = WebhookScenario.TransitionsAsync,
            ["webhooks"] = WebhookScenario.WebhooksAsync,
            ["golive-token"] = GoLiveTokenAsync,
            ["join-spread-token"] = JoinSpreadTokenAsync,
            ["golive" + LimitedSuffix] = (context, ct) => RateLimitedAsync(GoLiveAsync, context, ct),
            ["join-spread" + LimitedSuffix] = (context, ct) => RateLimitedAsync(JoinSpreadAsync, context, ct),
        };

    /// <summary>
    /// The scenarios that need a gateway with rate limits on: bench/run.sh measures them against a gateway it restarts
    /// with <c>RateLimits:Enabled=true</c> and limits too high to refuse anything, after the others.
    /// </summary>
    public const string LimitedSuffix = "-limited";

    /// <summary>
    /// Every scenario name, in the default order; idle-lives last, as its lives stay on air afterwards. The
    /// <see cref="LimitedSuffix"/> ones are named explicitly (bench/run.sh adds them to its default run).
    /// </summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Keys.Where(n => !n.EndsWith(LimitedSuffix, StringComparison.Ordinal)), IdleLives];

    public static bool Exists(string name) => All.ContainsKey(name) || name == IdleLives || name == Scale.Name;

    /// <summary>
    /// The scenarios the stateless peer (shared/peers/redis-stateless) serves: it has rooms, go-live and joins, and
    /// none of batch activity, likes, ingest, stats, transitions or webhooks.
    /// </summary>
    public static IReadOnlySet<string> PeerScenarios { get; } = new HashSet<string>(StringComparer.Ordinal) { Alive, "golive", "join-spread", "join-hot" };

    public static ByteArrayContent Content(byte[] body, string mediaType = "application/json") =>
        new(body) { Headers = { ContentType = new MediaTypeHeaderValue(mediaType) } };

    private static HttpRequestMessage Post(string path, byte[]? body = null) =>
        new(HttpMethod.Post, path) { Content = body is null ? null : Content(body) };

    private static async Task<Workload> GoLiveAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var rooms = context.Options.Rooms;
        await context.ForEachAsync(rooms, async (i, ct) =>
        {
            await context.CreateRoomAsync($"bench-r{i}", ct);
            return true;
        }, cancellationToken);

        return new Workload
        {
            NextRequest = w => Post($"/v1/rooms/bench-r{w.Random.Next(rooms)}/go-live", GoLiveBody),
            ExpectedStatus = 201,
        };
    }

    /// <summary>
    /// golive with a host token instead of the API key: rooms <c>bench-t{i}</c> hosted by <c>host-{i}</c>, each driven
    /// by its host's token (signed here with a managed key's secret, as a host's app would), so every call pays the
    /// token's verification and the host-only read of the room on top of what golive pays.
    /// </summary>
    private static async Task<Workload> GoLiveTokenAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var rooms = context.Options.Rooms;
        var (keyId, secret) = await context.SigningKeyAsync(cancellationToken);
        var expires = DateTimeOffset.UtcNow.AddDays(1);
        var tokens = await context.ForEachAsync(rooms, async (i, ct) =>
        {
            await context.CreateRoomAsync($"bench-t{i}", $"host-{i}", ct);
            return Bearer(BenchTokens.Sign(keyId, secret, $"host-{i}", new { room = $"bench-t{i}", host = true }, expires));
        }, cancellationToken);

        return new Workload
        {
            NextRequest = w =>
            {
                var room = w.Random.Next(rooms);
                var request = Post($"/v1/rooms/bench-t{room}/go-live", GoLiveBody);
                request.Headers.Authorization = tokens[room];
                return request;
            },
            ExpectedStatus = 201,
        };
    }

    /// <summary>join-spread with a viewer token per live (<c>{live, viewer: true}</c>) instead of the API key.</summary>
    private static async Task<Workload> JoinSpreadTokenAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var lives = await context.SpreadLivesAsync(cancellationToken);
        var (keyId, secret) = await context.SigningKeyAsync(cancellationToken);
        var expires = DateTimeOffset.UtcNow.AddDays(1);
        var tokens = lives.Select(live => Bearer(BenchTokens.Sign(keyId, secret, "viewer", new { live, viewer = true }, expires))).ToArray();
        return new Workload
        {
            NextRequest = w =>
            {
                var live = w.Random.Next(lives.Length);
                var request = Post($"/v1/lives/{lives[live]}/viewers/v{w.Random.Next(1_000_000)}/join");
                request.Headers.Authorization = tokens[live];
                return request;
            },
            ExpectedStatus = 202,
        };
    }

    /// <summary>
    /// The same workload as <paramref name="setup"/>'s, measured only when the gateway limits rates: an admitted answer
    /// then carries <c>RateLimit-Limit</c>, so the row cannot silently measure a gateway with limits off.
    /// </summary>
    private static async Task<Workload> RateLimitedAsync(
        Func<BenchContext, CancellationToken, Task<Workload>> setup, BenchContext context, CancellationToken cancellationToken)
    {
        var workload = await setup(context, cancellationToken);
        using var probe = workload.NextRequest(new Worker(0, 1));
        using var response = await context.Client.SendAsync(probe, cancellationToken);
        if (!response.Headers.Contains("RateLimit-Limit"))
        {
            throw new ScenarioSkippedException(
                $"rate limits are off in this gateway (status {(int)response.StatusCode}, no RateLimit-Limit header); bench/run.sh restarts its gateway with them on for *{LimitedSuffix}");
        }

        return workload;
    }

    private static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);

    private static async Task<Workload> JoinSpreadAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var lives = await context.SpreadLivesAsync(cancellationToken);
        return new Workload
        {
            NextRequest = w => Post($"/v1/lives/{lives[w.Random.Next(lives.Length)]}/viewers/v{w.Random.Next(1_000_000)}/join"),
            ExpectedStatus = 202,
        };
    }

    private static async Task<Workload> LikeSpreadAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var lives = await context.SpreadLivesAsync(cancellationToken);
        return new Workload
        {
            NextRequest = w => Post($"/v1/lives/{lives[w.Random.Next(lives.Length)]}/likes", LikeBody),
            ExpectedStatus = 202,
        };
    }

    private static async Task<Workload> JoinHotAsync(BenchContext context, CancellationToken cancellationToken)
    {
        await context.CreateRoomAsync("bench-hot", cancellationToken);
        var live = await context.GoLiveAsync("bench-hot", cancellationToken);
        return new Workload
        {
            NextRequest = w => Post($"/v1/lives/{live}/viewers/v{w.Random.Next(10_000_000)}/join"),
            ExpectedStatus = 202,
        };
    }

    private static async Task<Workload> ActivityBatchAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var lives = await context.SpreadLivesAsync(cancellationToken);
        // Bodies are built up front so that the load generator spends its share of the two cores on sending.
        var bodies = Enumerable.Range(0, 64)
            .Select(b => ActivityBody("joins", Enumerable.Range(0, context.Options.Batch).Select(i => $"a{b}-{i}")))
            .ToArray();
        return new Workload
        {
            NextRequest = w => Post($"/v1/lives/{lives[w.Random.Next(lives.Length)]}/activity", bodies[w.Random.Next(bodies.Length)]),
            ExpectedStatus = 202,
            CountsAccepted = true,
        };
    }

    private static async Task<Workload> CallbacksAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var concurrency = context.Options.Concurrency;
        var count = Math.Max(context.Options.Rooms, concurrency);
        var keys = await context.ForEachAsync(count, async (i, ct) =>
        {
            await context.CreateRoomAsync($"bench-c{i}", ct);
            return await context.SetUpAsync(async api => (await api.CreateStreamAsync(new CreateStreamRequest($"bench-c{i}"), cancellationToken: ct)).StreamKey!);
        }, cancellationToken);

        var hook = $"/v1/ingest-hooks/nginx-rtmp?secret={Uri.EscapeDataString(context.Options.Secret)}";
        byte[] Form(string call, string key) => Encoding.ASCII.GetBytes(
            $"call={call}&name={Uri.EscapeDataString(key)}&app=live&addr=127.0.0.1&clientid=1&tcurl=rtmp%3A%2F%2F127.0.0.1%2Flive");
        var publish = keys.Select(k => Form("publish", k)).ToArray();
        var done = keys.Select(k => Form("publish_done", k)).ToArray();
        HttpRequestMessage Hook(byte[] form) =>
            new(HttpMethod.Post, hook) { Content = Content(form, "application/x-www-form-urlencoded") };

        // The probe: one key connects and disconnects, as every key then does over and over.
        foreach (var form in new[] { publish[0], done[0] })
        {
            using var response = await context.Client.SendAsync(Hook(form), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw ScenarioSkippedException.For(HttpMethod.Post, "/v1/ingest-hooks/nginx-rtmp", (int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
            }
        }

        // Each worker owns the keys i ≡ worker (mod concurrency) and walks them publish, done, next key, so that
        // every key strictly alternates: a connect, then its disconnect, then later a reconnect within the window.
        var perWorker = count / concurrency;
        return new Workload
        {
            NextRequest = w =>
            {
                var key = w.Index + (concurrency * (int)(w.Sequence / 2 % perWorker));
                return Hook(w.Sequence % 2 == 0 ? publish[key] : done[key]);
            },
            Probe = false,
        };
    }

    private static async Task<Workload> MillionViewersAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var viewers = context.Options.Viewers;
        await context.CreateRoomAsync("bench-m", cancellationToken);
        var live = await context.GoLiveAsync("bench-m", cancellationToken);
        var batches = (viewers + MillionBatch - 1) / MillionBatch;
        IEnumerable<string> Batch(int b) => Enumerable.Range(b * MillionBatch, Math.Min(MillionBatch, viewers - (b * MillionBatch))).Select(i => $"m{i}");

        var joining = Stopwatch.StartNew();
        await context.ForEachAsync(batches, async (b, ct) =>
        {
            return await context.SetUpAsync(async api => await api.RecordActivityAsync(live, new ActivityBatch(Joins: [.. Batch(b)]), cancellationToken: ct));
        }, cancellationToken, parallelism: 4);
        var joinSeconds = joining.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"  joined {viewers:N0} viewers in {joinSeconds:F1} s ({viewers / joinSeconds:N0} ids/s)");

        var heartbeats = Enumerable.Range(0, batches).Select(b => ActivityBody("heartbeats", Batch(b))).ToArray();
        return new Workload
        {
            // The measured loop samples the stats every 100 ms; the load is the heartbeats beside it.
            NextRequest = _ => new HttpRequestMessage(HttpMethod.Get, $"/v1/lives/{live}/stats"),
            ExpectedStatus = 200,
            Concurrency = 1,
            Interval = TimeSpan.FromMilliseconds(100),
            Warmup = TimeSpan.Zero,
            Duration = context.Options.Hold,
            Background = (measurement, stop) => HeartbeatAsync(context.Client, live, heartbeats, measurement, stop),
            Summarize = async ct =>
            {
                var count = await context.SetUpAsync(async api => (await api.GetStatsAsync(live, ct)).ViewerCount);
                return $"viewer_count {count:N0}; {viewers:N0} joins took {joinSeconds:F1} s; events = heartbeats";
            },
        };
    }

    /// <summary>Heartbeats every viewer once per <see cref="HeartbeatPeriod"/>, batches spread evenly over it.</summary>
    private static async Task HeartbeatAsync(HttpClient client, string live, byte[][] batches, Measurement measurement, CancellationToken stop)
    {
        var interval = (long)(HeartbeatPeriod.TotalSeconds / batches.Length * Stopwatch.Frequency);
        using var inFlight = new SemaphoreSlim(8);
        var sends = new List<Task>();
        var next = Stopwatch.GetTimestamp();
        for (var b = 0; await LoadRunner.DelayUntilAsync(next, stop) && await WaitAsync(inFlight, stop); b = (b + 1) % batches.Length)
        {
            next += interval;
            var body = batches[b];
            sends.Add(Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                var (status, accepted) = (0, 0L);
                try
                {
                    using var request = Post($"/v1/lives/{live}/activity", body);
                    using var response = await client.SendAsync(request, CancellationToken.None);
                    status = (int)response.StatusCode;
                    accepted = status == 202 ? await LoadRunner.ReadAcceptedAsync(response, CancellationToken.None) : 0;
                }
                catch (HttpRequestException)
                {
                    status = -1;
                }
                finally
                {
                    inFlight.Release();
                }

                if (measurement.Contains(started))
                {
                    if (status == 202)
                    {
                        measurement.AddEvents(accepted);
                    }
                    else
                    {
                        measurement.AddError(status < 0 ? "heartbeat conn" : $"heartbeat {status}");
                    }
                }
            }, CancellationToken.None));
        }

        await Task.WhenAll(sends);
    }

    private static async Task<bool> WaitAsync(SemaphoreSlim semaphore, CancellationToken stop)
    {
        try
        {
            await semaphore.WaitAsync(stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static byte[] ActivityBody(string kind, IEnumerable<string> ids)
    {
        var json = new StringBuilder();
        json.Append(CultureInfo.InvariantCulture, $"{{\"{kind}\":[");
        var first = true;
        foreach (var id in ids)
        {
            json.Append(first ? "\"" : ",\"").Append(id).Append('"');
            first = false;
        }

        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }
}

/// <summary>
/// HS256 JWTs as a host's or viewer's app signs them (LiveKit's scheme, api.md "Access"): HMAC key = the UTF-8 bytes of a
/// managed key's secret, <c>iss</c> = its key id. Built by hand here: the load generator only signs, the gateway verifies.
/// </summary>
public static class BenchTokens
{
    public static string Sign(string keyId, string secret, string subject, object grants, DateTimeOffset expires)
    {
        var header = System.Buffers.Text.Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = System.Buffers.Text.Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new
        {
            iss = keyId,
            sub = subject,
            iat = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            exp = expires.ToUnixTimeSeconds(),
            grants,
        }));
        var signed = header + "." + payload;
        var signature = System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(signed));
        return signed + "." + System.Buffers.Text.Base64Url.EncodeToString(signature);
    }
}
