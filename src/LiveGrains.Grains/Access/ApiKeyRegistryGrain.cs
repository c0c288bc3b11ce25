using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Access;

[GenerateSerializer, Alias("LiveGrains.ApiKeyEntryState")]
public sealed class ApiKeyEntryState
{
    [Id(0)] public string KeyId { get; set; } = "";
    [Id(1)] public string Name { get; set; } = "";
    [Id(2)] public List<ApiKeyScope> Scopes { get; set; } = [];
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
}

[GenerateSerializer, Alias("LiveGrains.ApiKeyRegistryState")]
public sealed class ApiKeyRegistryState
{
    [Id(0)] public Dictionary<string, ApiKeyEntryState> Keys { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A tenant's managed keys, for listing and deleting. The credential each gateway verifies lives in the key's own
/// <see cref="ApiKeyGrain"/>, keyed by key id, so verifying needs no tenant and no scan.
/// </summary>
public sealed class ApiKeyRegistryGrain(
    [PersistentState("api-keys", LiveGrainsStorage.State)] IPersistentState<ApiKeyRegistryState> state,
    LiveGrainsClock clock) : Grain, IApiKeyRegistryGrain
{
    public const int MaxKeysPerTenant = 100;

    public async Task<Result<CreatedApiKeyDto>> CreateAsync(CreateApiKeyCommand command)
    {
        if (state.State.Keys.Count >= MaxKeysPerTenant)
        {
            return new DomainError(DomainErrorCode.ValidationFailed, $"At most {MaxKeysPerTenant} keys per tenant; delete one first.", "name");
        }

        var now = clock.UtcNow;
        var keyId = Ids.New(ApiKeySecrets.KeyIdPrefix, now);
        var secret = ApiKeySecrets.NewSecret(keyId);
        List<ApiKeyScope> scopes = [.. command.Scopes.Distinct().Order()];
        var entry = new ApiKeyEntryState { KeyId = keyId, Name = command.Name, Scopes = scopes, CreatedAt = now };

        // Listed first: if issuing the credential then fails, the key is listed but unusable (and deletable), never
        // usable but unlisted; the secret is not returned, so nobody holds it.
        state.State.Keys[keyId] = entry;
        await state.WriteStateAsync();
        await GrainFactory.Get<IApiKeyGrain>(keyId).IssueAsync(
            new ApiKeyCredential(keyId, this.GetPrimaryKeyString(), ApiKeySecrets.Digest(secret), scopes.Max(), Revoked: false));
        return new CreatedApiKeyDto(keyId, secret, entry.Name, scopes, now);
    }

    public Task<IReadOnlyList<ApiKeyDto>> ListAsync() =>
        Task.FromResult<IReadOnlyList<ApiKeyDto>>([.. state.State.Keys.Values.OrderBy(k => k.CreatedAt).ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .Select(k => new ApiKeyDto(k.KeyId, k.Name, k.Scopes, k.CreatedAt))]);

    public async Task<Result<bool>> DeleteAsync(string keyId)
    {
        if (!state.State.Keys.ContainsKey(keyId))
        {
            return DomainError.NotFound("API key");
        }

        // Revoked before it is forgotten: a failure in between leaves a listed, revoked key that a retry deletes.
        await GrainFactory.Get<IApiKeyGrain>(keyId).RevokeAsync();
        state.State.Keys.Remove(keyId);
        await state.WriteStateAsync();
        return true;
    }
}

[GenerateSerializer, Alias("LiveGrains.ApiKeyState")]
public sealed class ApiKeyState
{
    [Id(0)] public ApiKeyCredential? Credential { get; set; }
}

/// <summary>One key's credential. A revoked key keeps its tombstone, so its id can never verify again.</summary>
public sealed class ApiKeyGrain(
    [PersistentState("api-key", LiveGrainsStorage.State)] IPersistentState<ApiKeyState> state) : Grain, IApiKeyGrain
{
    public async Task IssueAsync(ApiKeyCredential credential)
    {
        if (state.State.Credential is { } existing && (existing.Revoked || existing.Tenant != credential.Tenant))
        {
            throw new InvalidOperationException("A key id is issued once.");
        }

        state.State.Credential = credential;
        await state.WriteStateAsync();
    }

    public async Task RevokeAsync()
    {
        if (state.State.Credential is { Revoked: false } credential)
        {
            state.State.Credential = credential with { Revoked = true };
            await state.WriteStateAsync();
        }
    }

    public Task<ApiKeyCredential?> GetAsync() => Task.FromResult(state.State.Credential);
}
