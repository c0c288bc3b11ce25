using System.Net;
using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Stats;

[Collection(GatewayCollection.Name)]
public sealed class LiveStatsApiTests(GatewayFactory factory)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly HttpClient _acme = factory.CreateClient(GatewayFactory.AcmeKey);

    [Fact]
    public async Task JoinsHeartbeatsLeavesAndCountersShowInTheStatsAndInTheLive()
    {
        var liveId = await GoLiveAsync();

        foreach (var (viewer, action) in new[] { ("v1", "join"), ("v2", "join"), ("v2", "join"), ("v1", "heartbeat"), ("v2", "leave") })
        {
            var response = await _acme.PostAsync($"/v1/lives/{liveId}/viewers/{viewer}/{action}", null);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await _acme.PostJsonAsync($"/v1/lives/{liveId}/likes", new { count = 3 })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await _acme.PostJsonAsync($"/v1/lives/{liveId}/likes", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await _acme.PostJsonAsync($"/v1/lives/{liveId}/chat-messages", new { count = 2 })).StatusCode);

        var stats = await StatsWhenAsync(liveId, s => s.GetProperty("like_count").GetInt64() == 4 && s.GetProperty("chat_message_count").GetInt64() == 2);
        Assert.Equal(1, stats.GetProperty("viewer_count").GetInt64());
        Assert.Equal(2, stats.GetProperty("peak_viewer_count").GetInt64());
        Assert.Equal(JsonValueKind.String, stats.GetProperty("peak_at").ValueKind);
        Assert.Equal(2, stats.GetProperty("unique_viewer_count").GetInt64());
        Assert.Equal(2, stats.GetProperty("view_count").GetInt64());
        Assert.True(stats.TryGetProperty("duration_seconds", out _));

        var live = await (await _acme.GetAsync($"/v1/lives/{liveId}")).JsonAsync();
        Assert.Equal(4, live.GetProperty("stats").GetProperty("like_count").GetInt64());
        Assert.Equal(1, live.GetProperty("stats").GetProperty("viewer_count").GetInt64());
    }

    [Fact]
    public async Task TheBatchFormCountsItsIdsAndRefusesMoreThan10000()
    {
        var liveId = await GoLiveAsync();

        // The test gateway caps bodies at 64 KB; the 10,000-id limit is checked with short repeated ids.
        var joins = Enumerable.Range(0, 5_000).Select(i => "b" + i).ToArray();
        var response = await _acme.PostJsonAsync($"/v1/lives/{liveId}/activity", new { joins, heartbeats = new[] { "b1" }, leaves = new[] { "b0" }, likes = 10, chat_messages = 5 });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(5_017, (await response.JsonAsync()).GetProperty("accepted").GetInt32());

        var stats = await StatsWhenAsync(liveId, s => s.GetProperty("like_count").GetInt64() == 10);
        Assert.Equal(4_999, stats.GetProperty("viewer_count").GetInt64());
        Assert.Equal(5_000, stats.GetProperty("unique_viewer_count").GetInt64());
        Assert.Equal(5, stats.GetProperty("chat_message_count").GetInt64());

        var exactly = Enumerable.Repeat("x", 10_000).ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await _acme.PostJsonAsync($"/v1/lives/{liveId}/activity", new { joins = exactly })).StatusCode);
        var tooMany = await _acme.PostJsonAsync($"/v1/lives/{liveId}/activity", new { joins = exactly, leaves = new[] { "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal("validation_failed", (await tooMany.JsonAsync()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task BadViewerIdsAndCountsAreRefusedWithFieldErrors()
    {
        var liveId = await GoLiveAsync();

        var longId = await _acme.PostAsync($"/v1/lives/{liveId}/viewers/{new string('a', 129)}/join", null);
        Assert.Equal(HttpStatusCode.BadRequest, longId.StatusCode);
        Assert.True((await longId.JsonAsync()).GetProperty("errors").TryGetProperty("viewer_id", out _));

        var badChars = await _acme.PostAsync($"/v1/lives/{liveId}/viewers/a%20b/join", null);
        Assert.Equal(HttpStatusCode.BadRequest, badChars.StatusCode);

        var badBatch = await _acme.PostJsonAsync($"/v1/lives/{liveId}/activity", new { joins = new[] { "ok", "not ok" } });
        Assert.Equal(HttpStatusCode.BadRequest, badBatch.StatusCode);
        Assert.True((await badBatch.JsonAsync()).GetProperty("errors").TryGetProperty("joins[1]", out _));

        foreach (var count in new[] { 0, 1001 })
        {
            var likes = await _acme.PostJsonAsync($"/v1/lives/{liveId}/likes", new { count });
            Assert.Equal(HttpStatusCode.BadRequest, likes.StatusCode);
            Assert.True((await likes.JsonAsync()).GetProperty("errors").TryGetProperty("count", out _));
        }

        Assert.Equal(HttpStatusCode.Accepted, (await _acme.PostAsync($"/v1/lives/{liveId}/viewers/{new string('a', 128)}/join", null)).StatusCode);
    }

    [Fact]
    public async Task AnEndedLiveRefusesActivityWithLiveEndedAndKeepsItsStatsFrozen()
    {
        var liveId = await GoLiveAsync();
        await _acme.PostJsonAsync($"/v1/lives/{liveId}/activity", new { joins = new[] { "a", "b" }, likes = 2 });
        Assert.Equal(HttpStatusCode.OK, (await _acme.PostJsonAsync($"/v1/lives/{liveId}/end", null)).StatusCode);

        var refused = await _acme.PostAsync($"/v1/lives/{liveId}/viewers/c/join", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("live_ended", (await refused.JsonAsync()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await _acme.PostJsonAsync($"/v1/lives/{liveId}/likes", null)).StatusCode);

        factory.Time.Advance(TimeSpan.FromMinutes(10));
        var stats = await (await _acme.GetAsync($"/v1/lives/{liveId}/stats")).JsonAsync();
        Assert.Equal(2, stats.GetProperty("viewer_count").GetInt64());
        Assert.Equal(2, stats.GetProperty("view_count").GetInt64());
        Assert.Equal(2, stats.GetProperty("like_count").GetInt64());
    }

    [Fact]
    public async Task AnotherTenantGetsNotFound()
    {
        var liveId = await GoLiveAsync();
        var globex = factory.CreateClient(GatewayFactory.GlobexKey);

        Assert.Equal(HttpStatusCode.NotFound, (await globex.PostAsync($"/v1/lives/{liveId}/viewers/a/join", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"/v1/lives/{liveId}/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"/v1/lives/{liveId}/events")).StatusCode);
    }

    [Fact]
    public async Task TheEventStreamStartsWithTheCurrentStateThenShowsStatsAndTransitions()
    {
        await using var running = new RunningClock(factory.Time); // stats follow each other a second of the clock apart
        var liveId = await GoLiveAsync();
        await _acme.PostAsync($"/v1/lives/{liveId}/viewers/early/join", null);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/lives/{liveId}/events");
        using var response = await _acme.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var deadline = new CancellationTokenSource(Timeout);

        var first = await NextEventAsync(reader, deadline.Token);
        Assert.Equal("status", first.Name);
        Assert.Equal("live", first.Data.GetProperty("status").GetString());
        Assert.Equal("stats", (await NextEventAsync(reader, deadline.Token)).Name);

        await _acme.PostAsync($"/v1/lives/{liveId}/viewers/late/join", null);
        await _acme.PostAsync($"/v1/lives/{liveId}/viewers/later/join", null);
        while (true)
        {
            var e = await NextEventAsync(reader, deadline.Token);
            if (e.Name == "stats" && e.Data.GetProperty("viewer_count").GetInt64() == 3)
            {
                break;
            }
        }

        Assert.Equal(HttpStatusCode.OK, (await _acme.PostJsonAsync($"/v1/lives/{liveId}/pause", null)).StatusCode);
        while (true)
        {
            var e = await NextEventAsync(reader, deadline.Token);
            if (e.Name == "status")
            {
                Assert.Equal("paused", e.Data.GetProperty("status").GetString());
                break;
            }
        }
    }

    private static async Task<(string Name, JsonElement Data)> NextEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? name = null;
        string? data = null;
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken) ?? throw new EndOfStreamException();
            if (line.Length == 0 && name is not null && data is not null)
            {
                return (name, JsonDocument.Parse(data).RootElement.Clone());
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
        }
    }

    private Task<JsonElement> StatsWhenAsync(string liveId, Func<JsonElement, bool> accept) =>
        Eventually.ValueAsync(
            async () => await (await _acme.GetAsync($"/v1/lives/{liveId}/stats")).JsonAsync(),
            s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("like_count", out _) && accept(s),
            Timeout,
            "the stats to reflect the accepted activity");

    private async Task<string> GoLiveAsync()
    {
        var roomId = Http.Unique("room");
        Assert.Equal(HttpStatusCode.Created, (await _acme.PostJsonAsync("/v1/rooms", new { room_id = roomId })).StatusCode);
        var response = await _acme.PostJsonAsync($"/v1/rooms/{roomId}/go-live", null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("live").GetProperty("live_id").GetString()!;
    }
}
