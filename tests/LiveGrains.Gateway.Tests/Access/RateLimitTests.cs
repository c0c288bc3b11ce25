using System.Net;
using LiveGrains.Testing;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Tests.Access;

/// <summary>A gateway with tiny limits: 5 a second per key (burst 10), 6 per tenant (burst 12), 1,000 for activity.</summary>
public sealed class RateLimitedGateway : IDisposable
{
    public const string InitechKey = "key-initech-0123456789";
    public const string AcmeSecondKey = "key-acme-second-0123456789";

    /// <summary>A tenant and key no other test of the class spends: its buckets are full when its test starts.</summary>
    public const string UmbrellaKey = "key-umbrella-0123456789";

    public RateLimitedGateway()
    {
        Factory.Settings["RateLimits:PerKeyPerSecond"] = "5";
        Factory.Settings["RateLimits:PerTenantPerSecond"] = "6";
        Factory.Settings["RateLimits:ActivityPerKeyPerSecond"] = "1000";
        Factory.Settings["Auth:ApiKeys:" + InitechKey] = "initech";
        Factory.Settings["Auth:ApiKeys:" + AcmeSecondKey] = "acme";
        Factory.Settings["Auth:ApiKeys:" + UmbrellaKey] = "umbrella";
    }

    public GatewayFactory Factory { get; } = new();

    public void Dispose() => Factory.Dispose();
}

public sealed class RateLimitTests(RateLimitedGateway gateway) : IClassFixture<RateLimitedGateway>
{
    [Fact]
    public async Task ABurstOverTheKeysLimitGets429WithHeadersWhileActivityGoesOnAndThenRecovers()
    {
        using var client = gateway.Factory.CreateClient(RateLimitedGateway.InitechKey);
        var roomId = await client.CreateRoomAsync();
        var liveId = (await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;

        var (admitted, rejected) = await BurstAsync(client, $"/v1/rooms/{roomId}");

        Assert.InRange(admitted, 8, 16);
        await rejected.ProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.Equal("5", Header(rejected, "RateLimit-Limit"));
        Assert.Equal("0", Header(rejected, "RateLimit-Remaining"));
        Assert.InRange(int.Parse(Header(rejected, "RateLimit-Reset"), System.Globalization.CultureInfo.InvariantCulture), 1, 2);
        Assert.NotNull(rejected.Headers.RetryAfter);

        // Viewer activity has its own bucket: an empty key bucket does not stop joins.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/v1/lives/{liveId}/viewers/v{i}/join", null)).StatusCode);
        }

        await Eventually.TrueAsync(async () => (await client.GetAsync($"/v1/rooms/{roomId}")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(3), "the bucket refills 5 a second");
    }

    [Fact]
    public async Task AnAdmittedRequestCarriesTheHeadersOfTheBucketClosestToEmpty()
    {
        using var client = gateway.Factory.CreateClient(RateLimitedGateway.UmbrellaKey);

        // A full key bucket holds 10 (burst 2x 5) and the tenant's 12: after one request the key's 9 is the closer.
        var first = await client.GetAsync("/v1/rooms/no-such-room");
        Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
        Assert.Equal("5", Header(first, "RateLimit-Limit"));
        Assert.Equal("9", Header(first, "RateLimit-Remaining"));
        Assert.Equal("1", Header(first, "RateLimit-Reset"));
        Assert.Equal("5;w=1;burst=10", Header(first, "RateLimit-Policy"));

        var roomId = await client.CreateRoomAsync();
        var liveId = (await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        var joined = await client.PostAsync($"/v1/lives/{liveId}/viewers/v1/join", null);

        // Viewer activity draws from its own bucket, 1,000 a second (burst 2,000), and says so.
        Assert.Equal(HttpStatusCode.Accepted, joined.StatusCode);
        Assert.Equal("1000", Header(joined, "RateLimit-Limit"));
        Assert.Equal("1999", Header(joined, "RateLimit-Remaining"));
    }

    [Fact]
    public async Task TwoKeysOfATenantShareTheTenantsBucket()
    {
        using var first = gateway.Factory.CreateClient(GatewayFactory.AcmeKey);
        using var second = gateway.Factory.CreateClient(RateLimitedGateway.AcmeSecondKey);

        var (firstAdmitted, firstRejected) = await BurstAsync(first, "/v1/rooms/any-room");
        Assert.Equal("5", Header(firstRejected, "RateLimit-Limit"));
        var (secondAdmitted, secondRejected) = await BurstAsync(second, "/v1/rooms/any-room", limit: "6");

        // The second key's own bucket was full: only the tenant's, spent by the first key, can have refused it.
        await secondRejected.ProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.Contains("tenant", (await secondRejected.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.InRange(firstAdmitted + secondAdmitted, 12, 24);
    }

    [Fact]
    public void LimitsBelowOneAreRefusedAtStart()
    {
        using var factory = new GatewayFactory();
        factory.Settings["RateLimits:PerTenantPerSecond"] = "0";

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("RateLimits:PerTenantPerSecond", Flatten(error), StringComparison.Ordinal);
    }

    /// <summary>Sends 40 requests at once: the count that was admitted (a 404 counts) and a 429 (saying <paramref name="limit"/>, if given).</summary>
    private static async Task<(int Admitted, HttpResponseMessage Rejected)> BurstAsync(HttpClient client, string url, string? limit = null)
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => client.GetAsync(url)));
        var rejected = responses.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests && (limit is null || Header(r, "RateLimit-Limit") == limit))
            ?? throw new Xunit.Sdk.XunitException($"40 requests at once and no 429 (of the {limit ?? "any"} a second limit)");
        return (responses.Count(r => r.StatusCode != HttpStatusCode.TooManyRequests), rejected);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : throw new Xunit.Sdk.XunitException($"no {name} header");

    private static string Flatten(Exception e) => e is OptionsValidationException v ? string.Join(";", v.Failures) : e.ToString();
}

/// <summary>A gateway with <c>RateLimits:Enabled=false</c> and limits that would otherwise refuse the second request.</summary>
public sealed class RateLimitsOffGateway : IDisposable
{
    public RateLimitsOffGateway()
    {
        Factory.Settings["RateLimits:Enabled"] = "false";
        Factory.Settings["RateLimits:PerKeyPerSecond"] = "1";
        Factory.Settings["RateLimits:PerTenantPerSecond"] = "1";
        Factory.Settings["RateLimits:ActivityPerKeyPerSecond"] = "1";
    }

    public GatewayFactory Factory { get; } = new();

    public void Dispose() => Factory.Dispose();
}

public sealed class RateLimitsOffTests(RateLimitsOffGateway gateway) : IClassFixture<RateLimitsOffGateway>
{
    [Fact]
    public async Task WithLimitsOffABurstIsNeverRefusedAndCarriesNoRateLimitHeaders()
    {
        using var client = gateway.Factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();
        var liveId = (await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => i % 2 == 0
            ? client.GetAsync($"/v1/rooms/{roomId}")
            : client.PostAsync($"/v1/lives/{liveId}/viewers/v{i}/join", null)));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"got {(int)r.StatusCode}"));
        Assert.All(responses, r => Assert.False(r.Headers.Contains("RateLimit-Limit")));
    }
}
