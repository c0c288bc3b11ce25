using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Idempotency;

[GenerateSerializer, Alias("LiveGrains.IdempotencyState")]
public sealed class IdempotencyState
{
    [Id(0)]
    public string? Fingerprint { get; set; }

    [Id(1)]
    public DateTimeOffset FirstSeenAt { get; set; }

    /// <summary>While the first request runs: the time after which a retry may take over (the first one died).</summary>
    [Id(2)]
    public DateTimeOffset LeaseUntil { get; set; }

    [Id(3)]
    public StoredResponse? Response { get; set; }
}

/// <summary>
/// Remembers the first answer to one Idempotency-Key for 24 hours. A request with the same key but another
/// method, path or body is refused rather than answered with the wrong response.
/// </summary>
public sealed class IdempotencyGrain(
    [PersistentState("idempotency", LiveGrainsStorage.State)] IPersistentState<IdempotencyState> state,
    LiveGrainsClock clock,
    ILogger<IdempotencyGrain> logger) : Grain, IIdempotencyGrain
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    public async Task<IdempotencyDecision> BeginAsync(string requestFingerprint)
    {
        var now = clock.UtcNow;
        var s = state.State;
        if (s.Fingerprint is not null && now - s.FirstSeenAt >= Retention)
        {
            s.Fingerprint = null;
            s.Response = null;
        }

        if (s.Fingerprint is not null)
        {
            if (!string.Equals(s.Fingerprint, requestFingerprint, StringComparison.Ordinal))
            {
                return new IdempotencyDecision(IdempotencyOutcome.Mismatch, null);
            }

            if (s.Response is not null)
            {
                return new IdempotencyDecision(IdempotencyOutcome.Replay, s.Response);
            }

            if (now < s.LeaseUntil)
            {
                return new IdempotencyDecision(IdempotencyOutcome.InProgress, null);
            }
        }
        else
        {
            s.Fingerprint = requestFingerprint;
            s.FirstSeenAt = now;
        }

        s.LeaseUntil = now + Lease;
        await state.WriteOrReloadAsync(this, logger);
        return new IdempotencyDecision(IdempotencyOutcome.Proceed, null);
    }

    public async Task CompleteAsync(string requestFingerprint, StoredResponse response)
    {
        if (!string.Equals(state.State.Fingerprint, requestFingerprint, StringComparison.Ordinal))
        {
            return;
        }

        state.State.Response = response;
        await state.WriteOrReloadAsync(this, logger);
    }

    public async Task AbandonAsync(string requestFingerprint)
    {
        if (string.Equals(state.State.Fingerprint, requestFingerprint, StringComparison.Ordinal) && state.State.Response is null)
        {
            await state.ClearStateAsync();
        }
    }
}
