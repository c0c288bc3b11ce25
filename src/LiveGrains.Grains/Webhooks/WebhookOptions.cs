namespace LiveGrains.Grains.Webhooks;

/// <summary>The <c>Webhooks</c> configuration section (api.md, Configuration).</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>Allow URLs on loopback/private/link-local addresses (tests, local development).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>How long one event is retried with backoff before its endpoint is marked failing.</summary>
    public TimeSpan RetryHorizon { get; set; } = TimeSpan.FromHours(24);

    public double AttemptTimeoutSeconds { get; set; } = 10;

    public int InitialBackoffMilliseconds { get; set; } = 1000;

    /// <summary>The backoff cap, and the retry interval once past the horizon.</summary>
    public int MaxBackoffMilliseconds { get; set; } = 10 * 60 * 1000;

    /// <summary>Delivery-log entries kept per endpoint.</summary>
    public int DeliveryLogSize { get; set; } = 1000;

    public int MaxEndpointsPerTenant { get; set; } = 50;

    public TimeSpan AttemptTimeout => TimeSpan.FromSeconds(AttemptTimeoutSeconds);

    /// <summary>Exponential backoff with full jitter in [base/2, base], base doubling per failed attempt.</summary>
    public TimeSpan Backoff(int failedAttempts)
    {
        var exponent = Math.Min(Math.Max(failedAttempts - 1, 0), 30);
        var ceiling = Math.Min((double)InitialBackoffMilliseconds * Math.Pow(2, exponent), MaxBackoffMilliseconds);
        return TimeSpan.FromMilliseconds(ceiling / 2 + (Random.Shared.NextDouble() * ceiling / 2));
    }
}
