namespace LiveGrains.Abstractions;

/// <summary>
/// A tenant's preset (the LiveKit-based platform's presets): the chat, join-limit and recording settings a room's lives
/// start from. A room names one with <c>preset_id</c>, else the tenant's default preset applies, else
/// <see cref="PresetSettings.Defaults"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.Preset")]
public sealed record PresetDto(
    [property: Id(0)] string PresetId,
    [property: Id(1)] string Name,
    [property: Id(2)] bool ChatEnabled,
    [property: Id(3)] long? MaxJoinLimit,
    [property: Id(4)] bool RecordingEnabled,
    [property: Id(5)] bool IsDefault,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] DateTimeOffset UpdatedAt)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public PresetSettings Settings => new(ChatEnabled, MaxJoinLimit, RecordingEnabled);
}

/// <summary>The settings of a preset, as a live keeps them (a copy taken when the live is created).</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.PresetSettings")]
public sealed record PresetSettings(
    [property: Id(0)] bool ChatEnabled = true,
    [property: Id(1)] long? MaxJoinLimit = null,
    [property: Id(2)] bool RecordingEnabled = false)
{
    /// <summary>What applies with no preset at all (api.md "Presets and limits").</summary>
    public static readonly PresetSettings Defaults = new();
}

[GenerateSerializer, Immutable, Alias("LiveGrains.CreatePresetCommand")]
public sealed record CreatePresetCommand(
    [property: Id(0)] string Name,
    [property: Id(1)] bool ChatEnabled,
    [property: Id(2)] long? MaxJoinLimit,
    [property: Id(3)] bool RecordingEnabled,
    [property: Id(4)] bool IsDefault);

/// <summary>
/// A partial update: null members are left as they are, except <see cref="MaxJoinLimit"/>, which is applied when
/// <see cref="MaxJoinLimitSet"/> (null then removes the limit).
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.UpdatePresetCommand")]
public sealed record UpdatePresetCommand(
    [property: Id(0)] string? Name,
    [property: Id(1)] bool? ChatEnabled,
    [property: Id(2)] bool MaxJoinLimitSet,
    [property: Id(3)] long? MaxJoinLimit,
    [property: Id(4)] bool? RecordingEnabled,
    [property: Id(5)] bool? IsDefault);

/// <summary>A live's own settings over its preset's (api.md: <c>chat_enabled_override</c>, <c>max_join_limit_override</c>, <c>recording_enabled</c>); null: the preset's.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveOverrides")]
public sealed record LiveOverrides(
    [property: Id(0)] bool? ChatEnabled = null,
    [property: Id(1)] long? MaxJoinLimit = null,
    [property: Id(2)] bool? RecordingEnabled = null)
{
    public static readonly LiveOverrides None = new();

    /// <summary>
    /// Applies a PATCH: a member named in <paramref name="set"/> takes <paramref name="patch"/>'s value (null clears
    /// that override); the others stay.
    /// </summary>
    public LiveOverrides With(LiveOverrides patch, LiveOverrideFields set) => new(
        set.HasFlag(LiveOverrideFields.ChatEnabled) ? patch.ChatEnabled : ChatEnabled,
        set.HasFlag(LiveOverrideFields.MaxJoinLimit) ? patch.MaxJoinLimit : MaxJoinLimit,
        set.HasFlag(LiveOverrideFields.RecordingEnabled) ? patch.RecordingEnabled : RecordingEnabled);
}

/// <summary>Which overrides a PATCH names (present in its body, possibly as null).</summary>
[Flags]
public enum LiveOverrideFields
{
    None = 0,
    ChatEnabled = 1,
    MaxJoinLimit = 2,
    RecordingEnabled = 4,
}

/// <summary>A live's settings in force: its overrides over its preset's settings.</summary>
public static class EffectiveSettings
{
    public static PresetSettings Of(PresetSettings? preset, LiveOverrides? overrides)
    {
        preset ??= PresetSettings.Defaults;
        return new PresetSettings(
            overrides?.ChatEnabled ?? preset.ChatEnabled,
            overrides?.MaxJoinLimit ?? preset.MaxJoinLimit,
            overrides?.RecordingEnabled ?? preset.RecordingEnabled);
    }
}

/// <summary>Limits of presets, shared by the gateway's validation, the registry and the docs.</summary>
public static class PresetLimits
{
    public const int MaxPresetsPerTenant = 100;
    public const int MaxNameLength = 200;
    public const long MaxJoinLimit = 100_000_000;
}
