using System.Diagnostics.Metrics;

namespace LiveGrains.Grains;

/// <summary>
/// LiveGrains' own meter ("LiveGrains"). Counters are per silo; Prometheus sums them across silos.
/// <c>livegrains.lives.active</c> moves where the room (the arbiter) changes its active live, so the
/// cluster-wide sum is exact while silos live; a killed silo's share is lost until restart (a known limit
/// of per-process up/down counters, documented in docs/observability.md).
/// </summary>
public static class LiveGrainsMetrics
{
    public const string MeterName = "LiveGrains";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> GoLives = Meter.CreateCounter<long>("livegrains.golives", description: "Go-lives accepted (API and ingest).");

    public static readonly Counter<long> Takeovers = Meter.CreateCounter<long>("livegrains.takeovers", description: "Active lives closed with end_reason superseded.");

    public static readonly UpDownCounter<long> LivesActive = Meter.CreateUpDownCounter<long>("livegrains.lives.active", description: "Lives in live or paused.");

    public static readonly UpDownCounter<long> Viewers = Meter.CreateUpDownCounter<long>("livegrains.viewers", description: "Viewers present across lives.");

    public static readonly Counter<long> StatsWritesDeferred = Meter.CreateCounter<long>("livegrains.stats.writes_deferred", description: "Statistics write-behinds put off to a later tick: the silo's write budget was spent (Stats:WriteBehindBytesInFlight).");

    public static readonly UpDownCounter<long> WebhookBacklog = Meter.CreateUpDownCounter<long>("livegrains.webhook.backlog", description: "Webhook deliveries waiting to be acknowledged.");
}
