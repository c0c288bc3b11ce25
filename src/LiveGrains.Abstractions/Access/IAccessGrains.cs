using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>A tenant's managed API keys (names, scopes; never secrets). Keyed by tenant id.</summary>
[Alias("LiveGrains.IApiKeyRegistryGrain")]
public interface IApiKeyRegistryGrain : IGrainWithStringKey
{
    /// <summary>Creates a key and returns its secret, which is stored only as a digest.</summary>
    [Alias("Create")] Task<Result<CreatedApiKeyDto>> CreateAsync(CreateApiKeyCommand command);

    [Alias("List"), ReadOnly] Task<IReadOnlyList<ApiKeyDto>> ListAsync();

    /// <summary>Revokes the key (its credential grain first) and forgets it.</summary>
    [Alias("Delete")] Task<Result<bool>> DeleteAsync(string keyId);
}

/// <summary>One managed key's credential, keyed by key id, so a gateway verifies any key with one call.</summary>
[Alias("LiveGrains.IApiKeyGrain")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    [Alias("Issue")] Task IssueAsync(ApiKeyCredential credential);

    [Alias("Revoke")] Task RevokeAsync();

    /// <summary>The credential, or null for a key that never existed.</summary>
    [Alias("Get"), ReadOnly, AlwaysInterleave] Task<ApiKeyCredential?> GetAsync();
}

/// <summary>Who did a control action.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.AuditActor")]
public sealed record AuditActor(
    [property: Id(0)] string Type,
    [property: Id(1)] string Id);

/// <summary>One control action, as <c>GET /v1/audit</c> shows it.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.AuditEntry")]
public sealed record AuditEntry(
    [property: Id(0)] string Id,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] AuditActor Actor,
    [property: Id(3)] string Action,
    [property: Id(4)] string? Resource,
    [property: Id(5)] string? ResourceType,
    [property: Id(6)] string Outcome,
    [property: Id(7)] int Status);

/// <summary>An action to record; the log assigns its id.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.AuditRecord")]
public sealed record AuditRecord(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] AuditActor Actor,
    [property: Id(2)] string Action,
    [property: Id(3)] string? Resource,
    [property: Id(4)] string? ResourceType,
    [property: Id(5)] string Outcome,
    [property: Id(6)] int Status);

[GenerateSerializer, Immutable, Alias("LiveGrains.AuditQuery")]
public sealed record AuditQuery(
    [property: Id(0)] string? Resource,
    [property: Id(1)] string? Actor,
    [property: Id(2)] long After,
    [property: Id(3)] int Limit);

[GenerateSerializer, Immutable, Alias("LiveGrains.AuditPage")]
public sealed record AuditPage(
    [property: Id(0)] IReadOnlyList<AuditEntry> Items,
    [property: Id(1)] string? NextCursor);

/// <summary>
/// A tenant's audit log: the newest entries, with full pages handed to <see cref="IAuditPageGrain"/>s so the
/// log's own state stays bounded. Keyed by tenant id.
/// </summary>
[Alias("LiveGrains.IAuditLogGrain")]
public interface IAuditLogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Appends a gateway's batch in order, in one write; durable when it returns. At least once: a batch retried after
    /// a lost answer may appear twice.
    /// </summary>
    [Alias("AppendBatch")] Task AppendAsync(IReadOnlyList<AuditRecord> records);

    /// <summary>Entries after the cursor, oldest first, matching the filters; entries past the retention period are never returned.</summary>
    [Alias("Query"), ReadOnly] Task<AuditPage> QueryAsync(AuditQuery query);
}

/// <summary>One full, immutable page of a tenant's audit log. Keyed by <c>tenant/page-number</c>.</summary>
[Alias("LiveGrains.IAuditPageGrain")]
public interface IAuditPageGrain : IGrainWithStringKey
{
    [Alias("Store")] Task StoreAsync(IReadOnlyList<AuditEntry> entries);

    [Alias("Get"), ReadOnly] Task<IReadOnlyList<AuditEntry>> GetAsync();

    /// <summary>Drops the page from storage: every entry in it is past the audit log's retention.</summary>
    [Alias("Clear")] Task ClearAsync();
}
