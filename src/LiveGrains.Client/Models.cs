namespace LiveGrains.Client;

// The wire format of the API (snake_case through LiveGrainsClientJson). Status-like fields are strings, not enums,
// so a client built today keeps reading answers from a gateway that learned a new status tomorrow.

/// <summary>A page of a cursor-paged listing; pass <see cref="NextCursor"/> back to read the next one.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public sealed record Room(
    string RoomId,
    string? Title,
    string? HostId,
    string TakeoverPolicy,
    int ReconnectWindowSeconds,
    string? ActiveLiveId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null);

public sealed record CreateRoomRequest(
    string? RoomId = null,
    string? Title = null,
    string? HostId = null,
    string? TakeoverPolicy = null,
    int? ReconnectWindowSeconds = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null);

public sealed record UpdateRoomRequest(
    string? Title = null,
    string? HostId = null,
    string? TakeoverPolicy = null,
    int? ReconnectWindowSeconds = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null);

public sealed record Stats(
    long ViewerCount,
    long PeakViewerCount,
    DateTimeOffset? PeakAt,
    long UniqueViewerCount,
    long ViewCount,
    long LikeCount,
    long ChatMessageCount,
    long DurationSeconds);

public sealed record Live(
    string LiveId,
    string RoomId,
    string? Title,
    string Status,
    string? EndReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ScheduledStartTime,
    DateTimeOffset? ReadyAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? PausedAt,
    DateTimeOffset? EndedAt,
    long DurationSeconds,
    string? StartedBy,
    string? EndedBy,
    Stats Stats,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null,
    DateTimeOffset? UpdatedAt = null,
    string? ReadyBy = null,
    string? PausedBy = null,
    string? ResumedBy = null);

public sealed record GoLiveRequest(
    string? Title = null,
    string? StartedBy = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null);

public sealed record GoLiveResult(Live Live, Live? ClosedLive);

public sealed record ScheduleLiveRequest(
    string? Title = null,
    DateTimeOffset? ScheduledStartTime = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null);

public sealed record UpdateLiveRequest(
    string? Title = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null);

/// <summary>Filters of <c>GET /v1/lives</c>; <see cref="Order"/> is <c>created_at</c>, <c>started_at</c> or <c>viewer_count</c>.</summary>
public sealed record LiveQuery(
    IReadOnlyList<string>? Status = null,
    string? RoomId = null,
    string? Order = null,
    int? Limit = null,
    string? Cursor = null);

public sealed record LiveTransition(DateTimeOffset At, string? From, string To, string? By, string? Reason);

public sealed record ActivityBatch(
    IReadOnlyList<string>? Joins = null,
    IReadOnlyList<string>? Heartbeats = null,
    IReadOnlyList<string>? Leaves = null,
    long? Likes = null,
    long? ChatMessages = null);

public sealed record ActivityAccepted(int Accepted);

public sealed record RecordingSession(string RecordingId, DateTimeOffset StartedAt, DateTimeOffset? StoppedAt, string Trigger, string? LiveId);

/// <summary>An ingest stream; <see cref="StreamKey"/> is set only in the answers of create and rotate-key.</summary>
public sealed record LiveStream(
    string StreamId,
    string RoomId,
    bool Enabled,
    string Status,
    string? StreamKey,
    string RtmpUrl,
    string WhipUrl,
    string SrtUrl,
    string Recording,
    bool RecordingActive,
    DateTimeOffset? ConnectedAt,
    DateTimeOffset? DisconnectedAt,
    string? LiveId,
    int? ReconnectWindowSeconds,
    DateTimeOffset? ReconnectDeadline,
    int KeyVersion,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<RecordingSession> RecordingSessions);

public sealed record CreateStreamRequest(string RoomId, int? ReconnectWindowSeconds = null, string? Recording = null);

public sealed record Webhook(
    string WebhookId,
    string Url,
    IReadOnlyList<string>? Events,
    bool Enabled,
    string? Secret,
    string? Description,
    DateTimeOffset CreatedAt,
    bool Failing);

public sealed record CreateWebhookRequest(string Url, IReadOnlyList<string>? Events = null, string? Description = null);

public sealed record WebhookDelivery(
    string EventId,
    string Type,
    string ResourceType,
    string ResourceId,
    long Sequence,
    string Status,
    int Attempts,
    int? LastStatusCode,
    string? LastError,
    string? LastResponseBody,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset UpdatedAt);

public sealed record ApiKey(string KeyId, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt);

/// <summary>The answer to creating a key: the only time its <see cref="Secret"/> is shown.</summary>
public sealed record CreatedApiKey(string KeyId, string Secret, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt);

public sealed record CreateApiKeyRequest(string Name, IReadOnlyList<string>? Scopes = null);

public sealed record TokenGrants(string? Room = null, string? Live = null, bool? Host = null, bool? Viewer = null);

public sealed record CreateTokenRequest(string Sub, TokenGrants Grants, int? TtlSeconds = null, string? KeyId = null);

public sealed record IssuedToken(string Token, string KeyId, string Sub, TokenGrants Grants, DateTimeOffset ExpiresAt);

public sealed record AuditActor(string Type, string Id);

public sealed record AuditEntry(string Id, DateTimeOffset At, AuditActor Actor, string Action, string? Resource, string? ResourceType, string Outcome, int Status);

public sealed record AuditQuery(string? Resource = null, string? Actor = null, string? After = null, int? Limit = null);

/// <summary>
/// One event of a live's event stream: <c>status</c> carries the <see cref="Live"/> after a transition, <c>stats</c>
/// its <see cref="Stats"/>. Other event names (added by a later gateway) arrive with neither set.
/// </summary>
public sealed record LiveEvent(string Event, Live? Live, Stats? Stats);
