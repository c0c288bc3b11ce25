using LiveGrains.Abstractions;

namespace LiveGrains.Gateway.Apis;

public sealed record CreateRoomRequest(
    string? RoomId = null,
    string? Title = null,
    string? HostId = null,
    TakeoverPolicy? TakeoverPolicy = null,
    int? ReconnectWindowSeconds = null,
    string? Description = null,
    Dictionary<string, string>? Metadata = null,
    Visibility? Visibility = null,
    string? CreatedBy = null,
    string? PresetId = null,
    string[]? CoHostIds = null);

public sealed record UpdateRoomRequest(
    string? Title = null,
    string? HostId = null,
    TakeoverPolicy? TakeoverPolicy = null,
    int? ReconnectWindowSeconds = null,
    string? Description = null,
    Dictionary<string, string>? Metadata = null,
    Visibility? Visibility = null,
    string? PresetId = null,
    string[]? CoHostIds = null);

public sealed record GoLiveRequest(
    string? Title = null,
    string? StartedBy = null,
    string? Description = null,
    Dictionary<string, string>? Metadata = null,
    Visibility? Visibility = null,
    string? CreatedBy = null,
    bool? ChatEnabledOverride = null,
    long? MaxJoinLimitOverride = null,
    bool? RecordingEnabled = null,
    LiveMode? Mode = null)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public LiveOverrides Overrides => new(ChatEnabledOverride, MaxJoinLimitOverride, RecordingEnabled);
}

public sealed record ScheduleLiveRequest(
    string? Title = null,
    DateTimeOffset? ScheduledStartTime = null,
    string? Description = null,
    Dictionary<string, string>? Metadata = null,
    Visibility? Visibility = null,
    string? CreatedBy = null,
    bool? ChatEnabledOverride = null,
    long? MaxJoinLimitOverride = null,
    bool? RecordingEnabled = null,
    LiveMode? Mode = null)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public LiveOverrides Overrides => new(ChatEnabledOverride, MaxJoinLimitOverride, RecordingEnabled);
}

/// <summary>
/// A live's PATCH. The overrides tell "absent" (left as is) from <c>null</c> (cleared: the preset's value applies again),
/// so their setters record which ones the body named.
/// </summary>
public sealed record UpdateLiveRequest(
    string? Title = null,
    string? Description = null,
    Dictionary<string, string>? Metadata = null,
    Visibility? Visibility = null,
    LiveMode? Mode = null)
{
    public bool? ChatEnabledOverride
    {
        get;
        init
        {
            field = value;
            OverridesSet |= LiveOverrideFields.ChatEnabled;
        }
    }

    public long? MaxJoinLimitOverride
    {
        get;
        init
        {
            field = value;
            OverridesSet |= LiveOverrideFields.MaxJoinLimit;
        }
    }

    public bool? RecordingEnabled
    {
        get;
        init
        {
            field = value;
            OverridesSet |= LiveOverrideFields.RecordingEnabled;
        }
    }

    [System.Text.Json.Serialization.JsonIgnore]
    public LiveOverrideFields OverridesSet { get; private set; }

    [System.Text.Json.Serialization.JsonIgnore]
    public LiveOverrides Overrides => new(ChatEnabledOverride, MaxJoinLimitOverride, RecordingEnabled);
}

public sealed record CreatePresetRequest(
    string? Name = null,
    bool? ChatEnabled = null,
    long? MaxJoinLimit = null,
    bool? RecordingEnabled = null,
    bool? IsDefault = null);

/// <summary>A preset's PATCH: <c>max_join_limit: null</c> removes the limit, an absent one leaves it.</summary>
public sealed record UpdatePresetRequest(
    string? Name = null,
    bool? ChatEnabled = null,
    bool? RecordingEnabled = null,
    bool? IsDefault = null)
{
    public long? MaxJoinLimit
    {
        get;
        init
        {
            field = value;
            MaxJoinLimitSet = true;
        }
    }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool MaxJoinLimitSet { get; private set; }
}

public sealed record TransitionRequest(string? By = null);

public sealed record ListResponse<T>(IReadOnlyList<T> Items, string? NextCursor);

public sealed record TransitionsResponse(IReadOnlyList<LiveTransitionRecord> Items);
