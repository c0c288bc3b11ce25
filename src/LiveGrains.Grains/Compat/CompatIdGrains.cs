using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Compat;

[GenerateSerializer, Alias("LiveGrains.CompatIdSequenceState")]
public sealed class CompatIdSequenceState
{
    [Id(0)] public long Last { get; set; }
}

/// <summary>Integer ids for a seed platform's resources; starts above 100,000 so they read like the platform's own.</summary>
public sealed class CompatIdSequenceGrain(
    [PersistentState("compat-id-sequence", LiveGrainsStorage.State)] IPersistentState<CompatIdSequenceState> state,
    ILogger<CompatIdSequenceGrain> logger) : Grain, ICompatIdSequenceGrain
{
    private const long First = 100_001;

    public async Task<long> NextAsync()
    {
        state.State.Last = Math.Max(state.State.Last + 1, First);
        await state.WriteOrReloadAsync(this, logger);
        return state.State.Last;
    }
}

[GenerateSerializer, Alias("LiveGrains.CompatIdLinkState")]
public sealed class CompatIdLinkState
{
    [Id(0)] public string? Value { get; set; }
}

public sealed class CompatIdLinkGrain(
    [PersistentState("compat-id-link", LiveGrainsStorage.State)] IPersistentState<CompatIdLinkState> state,
    ILogger<CompatIdLinkGrain> logger) : Grain, ICompatIdLinkGrain
{
    public Task<string?> GetAsync() => Task.FromResult(state.State.Value);

    public async Task SetAsync(string? value)
    {
        if (state.State.Value == value)
        {
            return;
        }

        state.State.Value = value;
        await state.WriteOrReloadAsync(this, logger);
    }

    public async Task<string> GetOrSetAsync(string value)
    {
        if (state.State.Value is { } existing)
        {
            return existing;
        }

        state.State.Value = value;
        await state.WriteOrReloadAsync(this, logger);
        return value;
    }
}
