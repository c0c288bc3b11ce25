using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>
/// A tenant's presets (keyed by tenant id): few per tenant (at most <see cref="PresetLimits.MaxPresetsPerTenant"/>), at
/// most one of them the default. Rooms read it through each silo's short-lived cache, never per decision.
/// </summary>
[Alias("LiveGrains.IPresetRegistryGrain")]
public interface IPresetRegistryGrain : IGrainWithStringKey
{
    /// <summary>Creates a preset; with <c>is_default</c> it becomes the tenant's default (the previous one no longer is).</summary>
    [Alias("Create")]
    Task<Result<PresetDto>> CreateAsync(CreatePresetCommand command);

    /// <summary>Every preset of the tenant, oldest first.</summary>
    [Alias("List"), ReadOnly]
    Task<PresetDto[]> ListAsync();

    [Alias("Get"), ReadOnly]
    Task<Result<PresetDto>> GetAsync(string presetId);

    [Alias("Update")]
    Task<Result<PresetDto>> UpdateAsync(string presetId, UpdatePresetCommand command);

    /// <summary>Deletes a preset; rooms that named it fall back to the tenant's default for lives created afterwards.</summary>
    [Alias("Delete")]
    Task<Result<bool>> DeleteAsync(string presetId);
}
