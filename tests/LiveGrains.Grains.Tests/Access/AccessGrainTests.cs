using LiveGrains.Abstractions;
using LiveGrains.Grains.Access;

namespace LiveGrains.Grains.Tests.Access;

[Collection(ClusterCollection.Name)]
public sealed class AccessGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AKeyIsStoredAsADigestListedWithoutItsSecretAndRevokedOnDelete()
    {
        var tenant = "t-" + Guid.NewGuid().ToString("N")[..8];
        var registry = fixture.Client.GetGrain<IApiKeyRegistryGrain>(tenant);

        var created = (await registry.CreateAsync(new CreateApiKeyCommand("k", [ApiKeyScope.Read, ApiKeyScope.Write]))).Value!;
        var credential = await fixture.Client.GetGrain<IApiKeyGrain>(created.KeyId).GetAsync();

        Assert.Equal(created.KeyId, ApiKeySecrets.KeyIdOf(created.Secret));
        Assert.Equal(ApiKeySecrets.Digest(created.Secret), credential!.SecretDigest);
        Assert.Equal((tenant, ApiKeyScope.Write, false), (credential.Tenant, credential.Scope, credential.Revoked));
        Assert.Equal([created.KeyId], (await registry.ListAsync()).Select(k => k.KeyId));

        Assert.Equal(DomainErrorCode.NotFound, (await fixture.Client.GetGrain<IApiKeyRegistryGrain>("other-" + tenant).DeleteAsync(created.KeyId)).Error!.Code);
        Assert.False((await fixture.Client.GetGrain<IApiKeyGrain>(created.KeyId).GetAsync())!.Revoked);

        Assert.True((await registry.DeleteAsync(created.KeyId)).IsSuccess);
        Assert.True((await fixture.Client.GetGrain<IApiKeyGrain>(created.KeyId).GetAsync())!.Revoked);
        Assert.Empty(await registry.ListAsync());
    }

    [Fact]
    public async Task TheAuditLogPagesOutFullPagesAndReadsAcrossThemInOrder()
    {
        var tenant = "t-" + Guid.NewGuid().ToString("N")[..8];
        var log = fixture.Client.GetGrain<IAuditLogGrain>(tenant);
        const int count = (AuditLogGrain.PageSize * 2) + 50;
        var records = Enumerable.Range(0, count)
            .Select(i => new AuditRecord(fixture.Time.GetUtcNow(), new AuditActor("key", i % 2 == 0 ? "even" : "odd"), "update_room", "r" + (i % 3), "room", "success", 200))
            .ToList();

        // Batches as gateways send them: of any size, crossing page boundaries, one alone.
        await log.AppendAsync(records[..1]);
        foreach (var batch in records[1..].Chunk(37))
        {
            await log.AppendAsync(batch);
        }

        var all = await ReadAllAsync(log, null, null);
        Assert.Equal(count, all.Count);

        Assert.Equal(Enumerable.Range(1, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), all.Select(e => e.Id));
        Assert.Equal(AuditLogGrain.PageSize, (await fixture.Client.GetGrain<IAuditPageGrain>(TenantKey.Compose(tenant, "0")).GetAsync()).Count);
        Assert.Equal(AuditLogGrain.PageSize, (await fixture.Client.GetGrain<IAuditPageGrain>(TenantKey.Compose(tenant, "1")).GetAsync()).Count);
        var odd = await ReadAllAsync(log, "odd", "r1");
        Assert.Equal(all.Where(e => e.Actor.Id == "odd" && e.Resource == "r1").Select(e => e.Id), odd.Select(e => e.Id));
        Assert.NotEmpty(odd);
        Assert.Equal(odd, await ReadAllAsync(log, "key:odd", "r1"));
    }

    private static async Task<List<AuditEntry>> ReadAllAsync(IAuditLogGrain log, string? actor, string? resource)
    {
        var items = new List<AuditEntry>();
        long after = 0;
        while (true)
        {
            var page = await log.QueryAsync(new AuditQuery(resource, actor, after, 37));
            items.AddRange(page.Items);
            if (page.NextCursor is null)
            {
                return items;
            }

            after = long.Parse(page.NextCursor, System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
