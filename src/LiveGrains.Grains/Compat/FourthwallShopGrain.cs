using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Compat;

[GenerateSerializer, Alias("LiveGrains.FourthwallShopState")]
public sealed class FourthwallShopState
{
    [Id(0)] public List<FourthwallService> Services { get; set; } = [];
}

/// <summary>
/// A tenant's Fourthwall services. Bounded (<see cref="IFourthwallShopGrain.MaxServices"/>, the most recently
/// announced kept), and a repeated start with the same services writes nothing: Fourthwall's start is a status set.
/// </summary>
public sealed class FourthwallShopGrain(
    [PersistentState("fourthwall-shop", LiveGrainsStorage.State)] IPersistentState<FourthwallShopState> state,
    ILogger<FourthwallShopGrain> logger) : Grain, IFourthwallShopGrain
{
    public async Task<FourthwallService[]> SetServicesAsync(FourthwallService[] services)
    {
        var next = new List<FourthwallService>(state.State.Services);
        foreach (var service in services)
        {
            next.RemoveAll(s => Same(s, service));
            next.Add(service);
        }

        if (next.Count > IFourthwallShopGrain.MaxServices)
        {
            next.RemoveRange(0, next.Count - IFourthwallShopGrain.MaxServices);
        }

        // Order kept stable for an unchanged announcement, so "nothing changed" is a plain comparison.
        var ordered = state.State.Services.Where(s => next.Any(n => n == s)).Concat(next.Where(n => !state.State.Services.Contains(n))).ToList();
        if (!ordered.SequenceEqual(state.State.Services))
        {
            state.State.Services = ordered;
            await state.WriteOrReloadAsync(this, logger);
        }

        return [.. state.State.Services];
    }

    public Task<FourthwallService[]> GetServicesAsync() => Task.FromResult<FourthwallService[]>([.. state.State.Services]);

    private static bool Same(FourthwallService a, FourthwallService b) =>
        string.Equals(a.Type, b.Type, StringComparison.Ordinal) && string.Equals(a.BroadcasterId, b.BroadcasterId, StringComparison.Ordinal);
}
