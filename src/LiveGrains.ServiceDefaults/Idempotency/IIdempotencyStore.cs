using LiveGrains.Abstractions;

namespace LiveGrains.ServiceDefaults.Idempotency;

/// <summary>
/// The records behind <c>Idempotency-Key</c>: one per (tenant, key), holding the request's fingerprint, a lease while
/// the first attempt runs (60 s) and then its stored answer, for 24 h after the key was first seen.
/// </summary>
/// <remarks>
/// With durable storage the records live in the store itself (Redis, Azure Blob), not in grain activations: a keyed
/// POST then never waits on the grain directory, whose ranges of a dead silo are held for a few seconds after the
/// silo is declared dead (docs/chaos.md, "Session 7"). Every operation is one atomic step against the store, so two
/// gateways racing on one key cannot both proceed.
/// </remarks>
public interface IIdempotencyStore
{
    /// <summary>Claims the key for this request, or says why not (replay, in progress, mismatch).</summary>
    Task<IdempotencyDecision> BeginAsync(string tenant, string keyHash, string requestFingerprint);

    /// <summary>Stores the answer of the request that claimed the key (no effect for another fingerprint).</summary>
    Task CompleteAsync(string tenant, string keyHash, string requestFingerprint, StoredResponse response);

    /// <summary>Frees a key whose request failed before it had an answer, so a retry may run it again.</summary>
    Task AbandonAsync(string tenant, string keyHash, string requestFingerprint);
}

/// <summary>The retention and lease every store applies (the same as the grain's).</summary>
public static class IdempotencyRecords
{
    /// <summary>How long a key's first answer is replayed, counted from the key's first use.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>How long the first attempt owns the key; after that a retry takes over (the first attempt died).</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
}
