using System.Text;
using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class IdempotencyGrainTests(ClusterFixture fixture)
{
    private static readonly StoredResponse Created = new(201, "application/json", "/v1/rooms/r1", Encoding.UTF8.GetBytes("{\"room_id\":\"r1\"}"));

    private IIdempotencyGrain NewKey(string tenant = GrainTestKit.Acme) =>
        fixture.Client.GetGrain<IIdempotencyGrain>(TenantKey.Compose(tenant, Guid.NewGuid().ToString("N")));

    [Fact]
    public async Task TheFirstRequestProceedsAndTheSameRequestLaterReplaysItsResponse()
    {
        var key = NewKey();

        Assert.Equal(IdempotencyOutcome.Proceed, (await key.BeginAsync("fp-1")).Outcome);
        await key.CompleteAsync("fp-1", Created);
        var replay = await key.BeginAsync("fp-1");

        Assert.Equal(IdempotencyOutcome.Replay, replay.Outcome);
        Assert.Equal(Created.StatusCode, replay.Response!.StatusCode);
        Assert.Equal(Created.ContentType, replay.Response.ContentType);
        Assert.Equal(Created.Location, replay.Response.Location);
        Assert.Equal(Created.Body, replay.Response.Body);
    }

    [Fact]
    public async Task TheSameKeyForADifferentRequestIsAMismatchBeforeAndAfterCompletion()
    {
        var key = NewKey();
        await key.BeginAsync("fp-1");

        Assert.Equal(IdempotencyOutcome.Mismatch, (await key.BeginAsync("fp-2")).Outcome);
        await key.CompleteAsync("fp-2", Created);
        Assert.Equal(IdempotencyOutcome.InProgress, (await key.BeginAsync("fp-1")).Outcome);
        await key.CompleteAsync("fp-1", Created);
        Assert.Equal(IdempotencyOutcome.Mismatch, (await key.BeginAsync("fp-2")).Outcome);
    }

    [Fact]
    public async Task ADuplicateWhileTheFirstRunsIsInProgressUntilTheLeaseRunsOut()
    {
        var key = NewKey();
        await key.BeginAsync("fp-1");

        Assert.Equal(IdempotencyOutcome.InProgress, (await key.BeginAsync("fp-1")).Outcome);
        fixture.Time.Advance(TimeSpan.FromSeconds(61));

        // The first attempt died without completing: a retry takes over.
        Assert.Equal(IdempotencyOutcome.Proceed, (await key.BeginAsync("fp-1")).Outcome);
    }

    [Fact]
    public async Task AnAbandonedAttemptLetsAnyRequestUseTheKeyAgain()
    {
        var key = NewKey();
        await key.BeginAsync("fp-1");

        await key.AbandonAsync("fp-1");

        Assert.Equal(IdempotencyOutcome.Proceed, (await key.BeginAsync("fp-2")).Outcome);
    }

    [Fact]
    public async Task AbandoningAfterCompletionKeepsTheStoredResponse()
    {
        var key = NewKey();
        await key.BeginAsync("fp-1");
        await key.CompleteAsync("fp-1", Created);

        await key.AbandonAsync("fp-1");

        Assert.Equal(IdempotencyOutcome.Replay, (await key.BeginAsync("fp-1")).Outcome);
    }

    [Fact]
    public async Task AKeyIsForgottenAfterTwentyFourHours()
    {
        var key = NewKey();
        await key.BeginAsync("fp-1");
        await key.CompleteAsync("fp-1", Created);

        fixture.Time.Advance(TimeSpan.FromHours(24));

        Assert.Equal(IdempotencyOutcome.Proceed, (await key.BeginAsync("fp-2")).Outcome);
    }

    [Fact]
    public async Task TheSameKeyOfTwoTenantsIsTwoIndependentKeys()
    {
        var raw = Guid.NewGuid().ToString("N");
        var acme = fixture.Client.GetGrain<IIdempotencyGrain>(TenantKey.Compose(GrainTestKit.Acme, raw));
        var globex = fixture.Client.GetGrain<IIdempotencyGrain>(TenantKey.Compose(GrainTestKit.Globex, raw));
        await acme.BeginAsync("fp-acme");
        await acme.CompleteAsync("fp-acme", Created);

        Assert.Equal(IdempotencyOutcome.Proceed, (await globex.BeginAsync("fp-globex")).Outcome);
    }
}
