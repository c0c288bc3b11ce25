using System.Collections.Concurrent;
using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Presets;

/// <summary>
/// Each silo's copy of its tenants' presets, read by rooms when they create a live. A tenant's presets live in one
/// grain; asking it on every go-live would make it a per-tenant hot spot on the go-live path (docs/benchmarks.md run H),
/// so a silo asks at most once per <see cref="Ttl"/> per tenant. A change made through this silo's registry is seen at
/// once here; other silos see it within <see cref="Ttl"/>.
/// </summary>
public sealed class PresetCache(IGrainFactory grains, LiveGrainsClock clock)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, (long ReadAt, Task<PresetDto[]> Presets)> _tenants = new(StringComparer.Ordinal);

    /// <summary>
    /// The preset a new live of a room starts from: the room's own (<paramref name="presetId"/>) if it still exists, else
    /// the tenant's default, else none (the built-in defaults).
    /// </summary>
    public async Task<PresetDto?> ResolveAsync(string tenant, string? presetId)
    {
        var presets = await GetAsync(tenant);
        return (presetId is null ? null : Array.Find(presets, p => p.PresetId == presetId)) ?? Array.Find(presets, p => p.IsDefault);
    }

    public void Invalidate(string tenant) => _tenants.TryRemove(tenant, out _);

    private Task<PresetDto[]> GetAsync(string tenant)
    {
        var now = clock.Provider.GetTimestamp();
        if (_tenants.TryGetValue(tenant, out var cached) && clock.Provider.GetElapsedTime(cached.ReadAt, now) < Ttl
            && !cached.Presets.IsFaulted && !cached.Presets.IsCanceled)
        {
            return cached.Presets;
        }

        var presets = grains.Get<IPresetRegistryGrain>(tenant).ListAsync();
        _tenants[tenant] = (now, presets);
        return presets;
    }
}
