namespace LiveGrains.Abstractions;

/// <summary>
/// Grain keys of tenant-owned, client-named resources are "tenant/id": two tenants may use the same
/// room id without ever reaching the same grain, which is what makes tenant isolation structural.
/// </summary>
public static class TenantKey
{
    public static string Compose(string tenant, string id) => string.Concat(tenant, "/", id);

    public static (string Tenant, string Id) Split(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (string.Empty, key) : (key[..slash], key[(slash + 1)..]);
    }
}
