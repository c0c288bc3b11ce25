using System.Diagnostics.Metrics;

namespace LiveGrains.Grains.Webhooks;

/// <summary>Webhook instruments on the "LiveGrains" meter.</summary>
public static class WebhookMetrics
{
    private static readonly Meter Meter = new("LiveGrains");

    /// <summary>Events queued and not yet acknowledged, summed over this silo's resource logs.</summary>
    public static readonly UpDownCounter<long> Backlog = Meter.CreateUpDownCounter<long>(
        "livegrains.webhook.backlog", "{event}", "Webhook deliveries queued and not yet acknowledged on this silo.");

    public static readonly Counter<long> Attempts = Meter.CreateCounter<long>(
        "livegrains.webhook.attempts", "{attempt}", "Webhook delivery attempts, by outcome.");

    public static readonly Histogram<double> Lag = Meter.CreateHistogram<double>(
        "livegrains.webhook.delivery_lag", "ms", "Time from an event to its acknowledged delivery.");
}
