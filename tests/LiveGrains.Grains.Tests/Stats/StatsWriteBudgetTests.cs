using LiveGrains.Grains.Stats;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LiveGrains.Grains.Tests.Stats;

/// <summary>The silo's budget for statistics written behind (<see cref="StatsWriteBudget"/>).</summary>
public sealed class StatsWriteBudgetTests
{
    private const long Budget = 1_000_000;

    private readonly FakeTimeProvider _time = new();

    private StatsWriteBudget NewBudget() => new(Options.Create(new StatsOptions { WriteBehindBytesInFlight = Budget }), _time);

    [Fact]
    public async Task WritesWithinTheBudgetGoAtOnceAndTheirBytesAreCountedUntilReleased()
    {
        var budget = NewBudget();

        Assert.True(await budget.ReserveAsync(600_000));
        Assert.True(await budget.ReserveAsync(400_000));
        Assert.Equal(Budget, budget.InFlightBytes);

        budget.Release(600_000);
        budget.Release(400_000);
        Assert.Equal(0, budget.InFlightBytes);
    }

    [Fact]
    public async Task AWriteLargerThanTheWholeBudgetGoesAloneWhenNothingIsInFlight()
    {
        var budget = NewBudget();

        Assert.True(await budget.ReserveAsync(5 * Budget));
        Assert.Equal(5 * Budget, budget.InFlightBytes);
        budget.Release(5 * Budget);
    }

    [Fact]
    public async Task TheFirstRefusedWriterWaitsAndGoesBeforeAnyLaterOneWhenTheWritesInFlightFinish()
    {
        var budget = NewBudget();
        Assert.True(await budget.ReserveAsync(900_000));

        var large = budget.ReserveAsync(5 * Budget);
        Assert.False(large.IsCompleted);

        // While it waits, nobody else starts, not even a write that would fit: a large live is not starved by small ones.
        Assert.False(await budget.ReserveAsync(10));

        budget.Release(900_000);
        Assert.True(await large.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(5 * Budget, budget.InFlightBytes);

        // And after it started, the next one waits for it in turn.
        var next = budget.ReserveAsync(10);
        Assert.False(next.IsCompleted);
        budget.Release(5 * Budget);
        Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(5)));
        budget.Release(10);
        Assert.Equal(0, budget.InFlightBytes);
    }

    [Fact]
    public async Task AWriterThatWaitedAWholeTickGivesUpItsPlaceAndTriesAgainLater()
    {
        var budget = NewBudget();
        Assert.True(await budget.ReserveAsync(Budget));

        var waiting = budget.ReserveAsync(10);
        _time.Advance(StatsWriteBudget.MaxWait);
        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));

        // Its place is free: the next refused writer waits in its turn, and gets in once the budget frees.
        var again = budget.ReserveAsync(10);
        Assert.False(again.IsCompleted);
        budget.Release(Budget);
        Assert.True(await again.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(10, budget.InFlightBytes);
    }

    [Fact]
    public async Task ACancelledWaitLeavesNothingReserved()
    {
        var budget = NewBudget();
        Assert.True(await budget.ReserveAsync(Budget));
        using var cancel = new CancellationTokenSource();

        var waiting = budget.ReserveAsync(10, cancel.Token);
        await cancel.CancelAsync();
        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));

        budget.Release(Budget);
        Assert.Equal(0, budget.InFlightBytes);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(65_535, false)]
    [InlineData(65_536, true)]
    public void TheBudgetIsValidatedAtStart(long bytes, bool valid) =>
        Assert.Equal(valid, new StatsOptionsValidator().Validate(null, new StatsOptions { WriteBehindBytesInFlight = bytes }).Succeeded);
}
