namespace LiveGrains.Client;

/// <summary>Where the gateway is and which credential to send.</summary>
public sealed class LiveGrainsClientOptions
{
    /// <summary>The gateway's base address, e.g. <c>https://livegrains.example.com/</c>.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>An API key (or a host/viewer token) sent as <c>Authorization: Bearer</c>. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Base delay of the retry policy (exponential with jitter); the standard handler's default is 2 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Attempts after the first one for a transient failure (408, 429, 5xx, connection errors).</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>
    /// Whether every POST gets a fresh <c>Idempotency-Key</c> (default true), which is what makes a resent POST safe.
    /// False for bulk set-up that never resends: each key costs the gateway a stored response for 24 h.
    /// </summary>
    public bool AutomaticIdempotencyKeys { get; set; } = true;
}
