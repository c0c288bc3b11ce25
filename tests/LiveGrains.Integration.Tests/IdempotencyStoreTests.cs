using System.Text;
using LiveGrains.Abstractions;
using LiveGrains.ServiceDefaults;
using LiveGrains.ServiceDefaults.Idempotency;
using LiveGrains.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LiveGrains.Integration.Tests;

/// <summary>
/// The gateway's Idempotency-Key records kept in the store itself (Redis, Azure Blob on Azurite), off the grain
/// directory: each rule of the key, two gateways racing on one key, and (Redis) a record that survives a kill -9.
/// </summary>
public sealed class IdempotencyStoreTests
{
    private static readonly StoredResponse Created = new(201, "application/json", "/v1/rooms/r1", Encoding.UTF8.GetBytes("{\"room_id\":\"r1\"}"));

    [Theory]
    [InlineData(StorageBackend.Redis)]
    [InlineData(StorageBackend.Azure)]
    public async Task EachRuleOfAKeyHoldsInTheStore(StorageBackend backend)
    {
        await using var store = await ClusterStore.StartAsync(backend);
        var time = new ManualTime();
        var records = Build(store, time);

        // First use proceeds; the same request while it runs is in progress; another request is a mismatch.
        Assert.Equal(IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "k1", "fp-1")).Outcome);
        Assert.Equal(IdempotencyOutcome.InProgress, (await records.BeginAsync("acme", "k1", "fp-1")).Outcome);
        Assert.Equal(IdempotencyOutcome.Mismatch, (await records.BeginAsync("acme", "k1", "fp-2")).Outcome);

        // Another request's answer is not stored; the first request's answer is replayed whole.
        await records.CompleteAsync("acme", "k1", "fp-2", Created with { StatusCode = 200 });
        await records.CompleteAsync("acme", "k1", "fp-1", Created);
        var replay = await records.BeginAsync("acme", "k1", "fp-1");
        Assert.Equal(IdempotencyOutcome.Replay, replay.Outcome);
        Assert.Equal(Created.StatusCode, replay.Response!.StatusCode);
        Assert.Equal(Created.ContentType, replay.Response.ContentType);
        Assert.Equal(Created.Location, replay.Response.Location);
        Assert.Equal(Created.Body, replay.Response.Body);

        // An answered key is not freed by a late abandon; the same key of another tenant is another record.
        await records.AbandonAsync("acme", "k1", "fp-1");
        Assert.Equal(IdempotencyOutcome.Replay, (await records.BeginAsync("acme", "k1", "fp-1")).Outcome);
        Assert.Equal(IdempotencyOutcome.Proceed, (await records.BeginAsync("globex", "k1", "fp-2")).Outcome);

        // An abandoned attempt frees the key for any request.
        Assert.Equal(IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "k2", "fp-1")).Outcome);
        await records.AbandonAsync("acme", "k2", "fp-1");
        Assert.Equal(IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "k2", "fp-3")).Outcome);

        // A first attempt that died without an answer: a retry takes over once the 60 s lease ran out.
        Assert.Equal(IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "k3", "fp-1")).Outcome);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(IdempotencyOutcome.InProgress, (await records.BeginAsync("acme", "k3", "fp-1")).Outcome);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "k3", "fp-1")).Outcome);

        // After 24 h the key is forgotten: another request may use it.
        time.Advance(IdempotencyRecords.Retention);
        Assert.Equal(IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "k1", "fp-9")).Outcome);
    }

    [Theory]
    [InlineData(StorageBackend.Redis)]
    [InlineData(StorageBackend.Azure)]
    public async Task OfManyAttemptsRacingOnOneKeyThroughTwoGatewaysExactlyOneRuns(StorageBackend backend)
    {
        await using var store = await ClusterStore.StartAsync(backend);
        var time = new ManualTime();
        IIdempotencyStore[] gateways = [Build(store, time), Build(store, time)];

        for (var key = 0; key < 5; key++)
        {
            var decisions = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
                gateways[i % 2].BeginAsync("acme", $"race-{key}", "fp-1")));

            Assert.Single(decisions, d => d.Outcome == IdempotencyOutcome.Proceed);
            Assert.All(decisions, d => Assert.Contains(d.Outcome, new[] { IdempotencyOutcome.Proceed, IdempotencyOutcome.InProgress }));
        }
    }

    [Fact]
    public async Task AClaimAndAnAnswerRedisAcknowledgedSurviveAKillOfRedis()
    {
        await using var redis = await RedisServer.StartAsync(new RedisServerOptions { AppendFsync = "always" });
        var time = new ManualTime();
        var records = Build(new Dictionary<string, string?> { ["Storage:Provider"] = "redis", ["ConnectionStrings:redis"] = redis.ConnectionString }, time);
        Assert.Equal(IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "answered", "fp-1")).Outcome);
        await records.CompleteAsync("acme", "answered", "fp-1", Created);
        Assert.Equal(IdempotencyOutcome.Proceed, (await records.BeginAsync("acme", "running", "fp-1")).Outcome);

        await redis.RestartAsync(RedisStopMode.Kill);

        var again = Build(new Dictionary<string, string?> { ["Storage:Provider"] = "redis", ["ConnectionStrings:redis"] = redis.ConnectionString }, time);
        Assert.Equal(IdempotencyOutcome.Replay, (await again.BeginAsync("acme", "answered", "fp-1")).Outcome);
        Assert.Equal(IdempotencyOutcome.InProgress, (await again.BeginAsync("acme", "running", "fp-1")).Outcome);
    }

    private static IIdempotencyStore Build(ClusterStore store, TimeProvider time) =>
        Build(store.Environment.ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => e.Value), time);

    private static IIdempotencyStore Build(IDictionary<string, string?> settings, TimeProvider time)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton(time).AddLiveGrainsIdempotencyStore(configuration).BuildServiceProvider();
        return services.GetRequiredService<IIdempotencyStore>();
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 30, 5, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
