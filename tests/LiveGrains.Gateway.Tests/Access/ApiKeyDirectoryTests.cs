using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Tests.Access;

public sealed class ApiKeyDirectoryTests
{
    private static ApiKeyDirectory Directory(params (string Key, string Tenant)[] keys) => new(
        Options.Create(new ApiKeyOptions { ApiKeys = keys.ToDictionary(k => k.Key, k => k.Tenant) }),
        new HostingEnvironment { EnvironmentName = Environments.Production });

    [Fact]
    public void ALongKeyIsMatchedWholeNotByAPrefix()
    {
        var key = new string('k', 600);
        var directory = Directory((key, "acme"));

        Assert.Equal("acme", directory.Find(key)?.Tenant);
        Assert.Null(directory.Find(key[..599] + "x"));
        Assert.Null(directory.Find(key.AsSpan(0, 512)));
        Assert.Null(directory.Find(key + "k"));
    }

    [Fact]
    public void EachKeyStandsForOneAdminCallerNamedByItsDigestAndNeverByTheKey()
    {
        var directory = Directory(("key-one-0123456789", "acme"), ("key-two-0123456789", "globex"));

        var one = directory.Find("key-one-0123456789")!;
        var two = directory.Find("key-two-0123456789")!;

        Assert.Same(one, directory.Find("key-one-0123456789"));
        Assert.Equal(("acme", ApiKeyScope.Admin, Caller.KeyActor), (one.Tenant, one.Scope, one.ActorType));
        Assert.Equal("globex", two.Tenant);
        Assert.Matches("^cfg_[0-9a-f]{12}$", one.ActorId);
        Assert.NotEqual(one.ActorId, two.ActorId);
        Assert.DoesNotContain("key-one", one.ActorId, StringComparison.Ordinal);
        Assert.Null(directory.Find(""));
        Assert.Null(directory.Find("lg_dev_key"));
    }
}
