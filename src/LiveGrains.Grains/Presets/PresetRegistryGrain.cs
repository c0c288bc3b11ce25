using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Presets;

[GenerateSerializer, Alias("LiveGrains.PresetRegistryState")]
public sealed class PresetRegistryState
{
    /// <summary>The tenant's presets, oldest first; at most one has <see cref="PresetDto.IsDefault"/>.</summary>
    [Id(0)]
    public List<PresetDto> Presets { get; set; } = [];
}

/// <summary>
/// A tenant's presets in one small state (at most <see cref="PresetLimits.MaxPresetsPerTenant"/>): the default rule
/// ("at most one default") reads all of them, so one grain owns them all. Rooms read them through the silo's
/// <see cref="PresetCache"/>, so this grain is not on the go-live path.
/// </summary>
public sealed class PresetRegistryGrain(
    [PersistentState("presets", LiveGrainsStorage.State)] IPersistentState<PresetRegistryState> state,
    PresetCache cache,
    LiveGrainsClock clock,
    ILogger<PresetRegistryGrain> logger) : Grain, IPresetRegistryGrain
{
    private List<PresetDto> Presets => state.State.Presets;

    private string Tenant => this.GetPrimaryKeyString();

    public async Task<Result<PresetDto>> CreateAsync(CreatePresetCommand command)
    {
        if (Presets.Count >= PresetLimits.MaxPresetsPerTenant)
        {
            return new DomainError(DomainErrorCode.ValidationFailed, $"At most {PresetLimits.MaxPresetsPerTenant} presets per tenant; delete one first.", "name");
        }

        var now = clock.UtcNow;
        var preset = new PresetDto(
            Ids.New("ps_", now), command.Name, command.ChatEnabled, command.MaxJoinLimit, command.RecordingEnabled, command.IsDefault, now, now);
        if (preset.IsDefault)
        {
            ClearDefault();
        }

        Presets.Add(preset);
        await SaveAsync();
        return preset;
    }

    public Task<PresetDto[]> ListAsync() => Task.FromResult(Presets.ToArray());

    public Task<Result<PresetDto>> GetAsync(string presetId) =>
        Task.FromResult(Find(presetId) is { } preset ? Result<PresetDto>.Ok(preset) : Result<PresetDto>.Fail(NotFound()));

    public async Task<Result<PresetDto>> UpdateAsync(string presetId, UpdatePresetCommand command)
    {
        if (Find(presetId) is not { } preset)
        {
            return NotFound();
        }

        var updated = preset with
        {
            Name = command.Name ?? preset.Name,
            ChatEnabled = command.ChatEnabled ?? preset.ChatEnabled,
            MaxJoinLimit = command.MaxJoinLimitSet ? command.MaxJoinLimit : preset.MaxJoinLimit,
            RecordingEnabled = command.RecordingEnabled ?? preset.RecordingEnabled,
            IsDefault = command.IsDefault ?? preset.IsDefault,
            UpdatedAt = clock.UtcNow,
        };
        if (updated.IsDefault && !preset.IsDefault)
        {
            ClearDefault();
        }

        Presets[Presets.FindIndex(p => p.PresetId == presetId)] = updated;
        await SaveAsync();
        return updated;
    }

    public async Task<Result<bool>> DeleteAsync(string presetId)
    {
        if (Find(presetId) is null)
        {
            return NotFound();
        }

        Presets.RemoveAll(p => p.PresetId == presetId);
        await SaveAsync();
        return true;
    }

    private PresetDto? Find(string presetId) => Presets.Find(p => p.PresetId == presetId);

    private void ClearDefault()
    {
        for (var i = 0; i < Presets.Count; i++)
        {
            if (Presets[i].IsDefault)
            {
                Presets[i] = Presets[i] with { IsDefault = false };
            }
        }
    }

    private async Task SaveAsync()
    {
        try
        {
            await state.WriteOrReloadAsync(this, logger);
        }
        finally
        {
            // This silo's rooms see the change at once; other silos' caches within PresetCache.Ttl.
            cache.Invalidate(Tenant);
        }
    }

    private static DomainError NotFound() => DomainError.NotFound("Preset");
}
