using System.Net;
using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Listing;

/// <summary>A gateway with a tenant per test, so one test's rooms never show in another's listing.</summary>
public sealed class ListingGatewayFixture : IAsyncLifetime
{
    private const int Tenants = 32;
    private int _next;

    public GatewayFactory Factory { get; } = new();

    public Task InitializeAsync()
    {
        for (var i = 0; i < Tenants; i++)
        {
            Factory.Settings[$"Auth:ApiKeys:key-listing-{i:00}-0123456789"] = $"listing-{i:00}";
        }

        _ = Factory.Server;
        return Task.CompletedTask;
    }

    /// <summary>A client of a tenant no other test uses.</summary>
    public HttpClient NewTenantClient() => Factory.CreateClient($"key-listing-{Interlocked.Increment(ref _next):00}-0123456789");

    public Task DisposeAsync() => Factory.DisposeAsync().AsTask();
}

public sealed class ListingHttpTests(ListingGatewayFixture fixture) : IClassFixture<ListingGatewayFixture>
{
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task RoomsAreListedNewestFirstPageByPageAndNeverToAnotherTenant()
    {
        using var client = fixture.NewTenantClient();
        using var other = fixture.NewTenantClient();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await client.CreateRoomAsync());
            fixture.Factory.Time.Advance(TimeSpan.FromSeconds(1));
        }

        await other.CreateRoomAsync();
        var listed = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await (await client.GetAsync("/v1/rooms?limit=2" + (cursor is null ? string.Empty : "&cursor=" + cursor))).OkJsonAsync();
            Assert.Equal(["items", "next_cursor"], page.EnumerateObject().Select(p => p.Name));
            listed.AddRange(page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("room_id").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Reverse(created), listed);
        Assert.Equal(3, pages);
        var theirs = await (await other.GetAsync("/v1/rooms")).OkJsonAsync();
        Assert.Single(theirs.GetProperty("items").EnumerateArray());
        Assert.DoesNotContain(theirs.GetProperty("items").EnumerateArray(), r => created.Contains(r.GetProperty("room_id").GetString()!));
    }

    [Fact]
    public async Task TheLiveNowPageListsLiveAndPausedLivesByAudienceWithinTwoSeconds()
    {
        using var client = fixture.NewTenantClient();
        var quiet = await GoLiveAsync(client);
        var popular = await GoLiveAsync(client);
        var paused = await GoLiveAsync(client);
        var scheduledRoom = await client.CreateRoomAsync();
        fixture.Factory.Time.Advance(TimeSpan.FromSeconds(1));
        (await client.PostAsync($"/v1/rooms/{scheduledRoom}/lives", "{}")).Dispose();
        await JoinAsync(client, popular, 3);
        await JoinAsync(client, quiet, 1);
        await JoinAsync(client, paused, 2);
        (await (await client.PostAsync($"/v1/lives/{paused}/pause", """{"by":"host-1"}""")).OkJsonAsync()).ToString();

        const string liveNow = "/v1/lives?status=live&status=paused&order=viewer_count";
        var page = await Eventually.ValueAsync(
            async () => await (await client.GetAsync(liveNow)).OkJsonAsync(),
            p => Ids(p).SequenceEqual([popular, paused, quiet]),
            Freshness,
            "the live-now page orders by audience");
        Assert.Equal([3L, 2L, 1L], page.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("stats").GetProperty("viewer_count").GetInt64()));
        Assert.Equal(["live", "paused", "live"], page.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("status").GetString()));

        var onlyLive = await (await client.GetAsync("/v1/lives?status=live&order=viewer_count&limit=1")).OkJsonAsync();
        Assert.Equal([popular], Ids(onlyLive));
        var next = await (await client.GetAsync("/v1/lives?status=live&order=viewer_count&limit=1&cursor=" + onlyLive.GetProperty("next_cursor").GetString())).OkJsonAsync();
        Assert.Equal([quiet], Ids(next));

        // Every live of the tenant, newest first, by default.
        var all = await Eventually.ValueAsync(
            async () => await (await client.GetAsync("/v1/lives")).OkJsonAsync(), p => Ids(p).Count == 4, Freshness, "all four lives are listed");
        Assert.Equal("scheduled", all.GetProperty("items")[0].GetProperty("status").GetString());
        Assert.Equal([paused, popular, quiet], Ids(all).Skip(1));

        // An end leaves the live-now page within 2 s.
        (await client.PostAsync($"/v1/lives/{popular}/end", "{}")).Dispose();
        await Eventually.TrueAsync(
            async () => Ids(await (await client.GetAsync(liveNow)).OkJsonAsync()).SequenceEqual([paused, quiet]), Freshness, "the ended live left the page");
    }

    [Fact]
    public async Task ARoomFilterListsOnlyThatRoomsLives()
    {
        using var client = fixture.NewTenantClient();
        var roomId = await client.CreateRoomAsync();
        var first = (await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        fixture.Factory.Time.Advance(TimeSpan.FromSeconds(1));
        var second = (await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        await GoLiveAsync(client);

        var page = await Eventually.ValueAsync(
            async () => await (await client.GetAsync($"/v1/lives?room_id={roomId}")).OkJsonAsync(),
            p => Ids(p).SequenceEqual([second, first]) && p.GetProperty("items")[1].GetProperty("status").GetString() == "ended",
            Freshness,
            "the room's two lives are listed");
        Assert.Equal("superseded", page.GetProperty("items")[1].GetProperty("end_reason").GetString());
        Assert.Equal([second], Ids(await (await client.GetAsync($"/v1/lives?room_id={roomId}&status=live")).OkJsonAsync()));
    }

    [Theory]
    [InlineData("/v1/rooms?limit=0", "limit")]
    [InlineData("/v1/rooms?limit=101", "limit")]
    [InlineData("/v1/rooms?cursor=bogus", "cursor")]
    [InlineData("/v1/lives?status=on_air", "status")]
    [InlineData("/v1/lives?status=live&status=nope", "status")]
    [InlineData("/v1/lives?order=likes", "order")]
    [InlineData("/v1/lives?room_id=bad%20id", "room_id")]
    [InlineData("/v1/lives?cursor=bogus", "cursor")]
    [InlineData("/v1/streams?limit=500", "limit")]
    [InlineData("/v1/streams?room_id=bad%21id", "room_id")]
    public async Task BadListingParametersAreFieldErrors(string url, string field)
    {
        using var client = fixture.NewTenantClient();
        await (await client.GetAsync(url)).ValidationProblemAsync(field);
    }

    [Fact]
    public async Task DeletingARoomIsRefusedWhileALiveIsOnAirAndLeavesItsLivesReadable()
    {
        using var client = fixture.NewTenantClient();
        using var other = fixture.NewTenantClient();
        var roomId = await client.CreateRoomAsync();
        var liveId = (await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;

        await (await client.DeleteAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.Conflict, "live_already_active");
        await (await other.DeleteAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        (await client.PostAsync($"/v1/lives/{liveId}/end", "{}")).Dispose();

        using var deleted = await client.DeleteAsync($"/v1/rooms/{roomId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await (await client.GetAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.DeleteAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Empty((await (await client.GetAsync("/v1/rooms")).OkJsonAsync()).GetProperty("items").EnumerateArray());
        var live = await (await client.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal("ended", live.GetProperty("status").GetString());
        await Eventually.TrueAsync(
            async () => Ids(await (await client.GetAsync("/v1/lives?status=ended")).OkJsonAsync()).Contains(liveId), Freshness, "its live is still listed");
    }

    [Fact]
    public async Task StreamsAreListedPerRoomAndPerTenantWithoutTheirKeys()
    {
        using var client = fixture.NewTenantClient();
        using var other = fixture.NewTenantClient();
        var roomA = await client.CreateRoomAsync();
        var roomB = await client.CreateRoomAsync();
        var a1 = await CreateStreamAsync(client, roomA);
        fixture.Factory.Time.Advance(TimeSpan.FromSeconds(1));
        var b1 = await CreateStreamAsync(client, roomB);
        fixture.Factory.Time.Advance(TimeSpan.FromSeconds(1));
        var a2 = await CreateStreamAsync(client, roomA);

        var ofRoom = await (await client.GetAsync($"/v1/rooms/{roomA}/streams")).OkJsonAsync();
        Assert.Equal([a2, a1], StreamIds(ofRoom));
        Assert.All(ofRoom.GetProperty("items").EnumerateArray(), s => Assert.Equal(JsonValueKind.Null, s.GetProperty("stream_key").ValueKind));
        Assert.Equal([a2, a1], StreamIds(await (await client.GetAsync($"/v1/streams?room_id={roomA}")).OkJsonAsync()));
        Assert.Equal([a2, b1, a1], StreamIds(await (await client.GetAsync("/v1/streams")).OkJsonAsync()));
        var paged = await (await client.GetAsync("/v1/streams?limit=2")).OkJsonAsync();
        Assert.Equal([a2, b1], StreamIds(paged));
        Assert.Equal([a1], StreamIds(await (await client.GetAsync("/v1/streams?limit=2&cursor=" + paged.GetProperty("next_cursor").GetString())).OkJsonAsync()));

        Assert.Empty(StreamIds(await (await other.GetAsync("/v1/streams")).OkJsonAsync()));
        await (await other.GetAsync($"/v1/rooms/{roomA}/streams")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.GetAsync("/v1/rooms/no-such-room/streams")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    private static List<string> Ids(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("live_id").GetString()!)];

    private static List<string> StreamIds(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("stream_id").GetString()!)];

    private async Task<string> GoLiveAsync(HttpClient client)
    {
        var roomId = await client.CreateRoomAsync();
        fixture.Factory.Time.Advance(TimeSpan.FromSeconds(1));
        return (await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
    }

    private static async Task JoinAsync(HttpClient client, string liveId, int viewers)
    {
        for (var i = 0; i < viewers; i++)
        {
            using var response = await client.PostAsync($"/v1/lives/{liveId}/viewers/viewer-{i}/join");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    private static async Task<string> CreateStreamAsync(HttpClient client, string roomId)
    {
        var stream = await (await client.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}"}""")).OkJsonAsync(HttpStatusCode.Created);
        return stream.GetProperty("stream_id").GetString()!;
    }
}
