using LiveGrains.Abstractions;

namespace LiveGrains.ServiceDefaults.Idempotency;

/// <summary>
/// The in-memory mode's store: one <see cref="IIdempotencyGrain"/> per key. That mode is a single process, so there is
/// no dead silo whose directory range a key could wait on, and the grain keeps its records with the rest of the state.
/// </summary>
public sealed class GrainIdempotencyStore(IGrainFactory grains) : IIdempotencyStore
{
    public Task<IdempotencyDecision> BeginAsync(string tenant, string keyHash, string requestFingerprint) =>
        Grain(tenant, keyHash).BeginAsync(requestFingerprint);

    public Task CompleteAsync(string tenant, string keyHash, string requestFingerprint, StoredResponse response) =>
        Grain(tenant, keyHash).CompleteAsync(requestFingerprint, response);

    public Task AbandonAsync(string tenant, string keyHash, string requestFingerprint) =>
        Grain(tenant, keyHash).AbandonAsync(requestFingerprint);

    private IIdempotencyGrain Grain(string tenant, string keyHash) =>
        grains.Get<IIdempotencyGrain>(TenantKey.Compose(tenant, keyHash));
}
