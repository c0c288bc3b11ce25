using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace LiveGrains.Gateway.Tests.Webhooks;

/// <summary>
/// Events delivered per second to a local receiver that acks at once, and API-call-to-delivery latency, on one
/// node (co-hosted silo, in-memory storage). Opt-in: <c>WEBHOOK_BENCH_EVENTS=5000 dotnet test ... --filter Category=Benchmark</c>.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class WebhookDeliveryBenchmark(WebhookGatewayFixture fixture, ITestOutputHelper output) : IClassFixture<WebhookGatewayFixture>
{
    [Fact]
    public async Task DeliversRoomCreatedEventsToALocalReceiver()
    {
        var events = int.TryParse(Environment.GetEnvironmentVariable("WEBHOOK_BENCH_EVENTS"), out var n) ? n : 500;
        const int concurrency = 64;
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        await client.SubscribeAsync(receiver, ["room.created"]);
        await client.CreateRoomAsync(); // warm-up: activations, connection pool
        await Testing.Eventually.TrueAsync(() => receiver.Acked.Count == 1, TimeSpan.FromSeconds(30), "warm-up delivery");

        var clock = Stopwatch.StartNew();
        var calledAt = new ConcurrentDictionary<string, long>();
        var latencies = new ConcurrentBag<double>();
        var done = new TaskCompletionSource();
        var delivered = 0;
        receiver.OnAcked = r =>
        {
            if (calledAt.TryGetValue(r.Resource, out var start))
            {
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                if (Interlocked.Increment(ref delivered) == events)
                {
                    done.TrySetResult();
                }
            }
        };

        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < events)
            {
                var roomId = Http.Unique("bench");
                calledAt["room:" + roomId] = Stopwatch.GetTimestamp();
                using var response = await client.PostJsonAsync("/v1/rooms", new { room_id = roomId });
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            }
        }));
        var apiSeconds = clock.Elapsed.TotalSeconds;
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        var totalSeconds = clock.Elapsed.TotalSeconds;

        var sorted = latencies.Order().ToArray();
        double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
        output.WriteLine(
            $"webhooks: {events} events, concurrency {concurrency}: API {events / apiSeconds:0} calls/s; delivered {events / totalSeconds:0} events/s; " +
            $"API call -> delivery p50 {P(0.50):0.0} ms, p99 {P(0.99):0.0} ms, max {sorted[^1]:0.0} ms");
        Assert.Empty(receiver.OrderViolations());
    }
}
