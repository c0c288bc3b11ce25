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
    string? CreatedBy = null);

public sealed record UpdateRoomRequest(
    string? Title = null,
    string? HostId = null,
    TakeoverPolicy? TakeoverPolicy = null,
    int? ReconnectWindowSeconds = null,
    string? Description = null,
    Dictionary<string, string>? Metadata = null,
    Visibility? Visibility = null);

public sealed record GoLiveRequest(
    string? Title = null,
    string? StartedBy = null,
    string? Description = null,
    Dictionary<string, string>? Metadata = null,
    Visibility? Visibility = null,
    string? CreatedBy = null);

public sealed record ScheduleLiveRequest(
    string? Title = null,
    DateTimeOffset? ScheduledStartTime = null,
    string? Description = null,
    Dictionary<string, string>? Metadata = null,
    Visibility? Visibility = null,
    string? CreatedBy = null);

public sealed record UpdateLiveRequest(
    string? Title = null,
    string? Description = null,
    Dictionary<string, string>? Metadata = null,
    Visibility? Visibility = null);

public sealed record TransitionRequest(string? By = null);

public sealed record ListResponse<T>(IReadOnlyList<T> Items, string? NextCursor);

public sealed record TransitionsResponse(IReadOnlyList<LiveTransitionRecord> Items);
