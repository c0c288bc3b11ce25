namespace LiveGrains.Grains;

/// <summary>
/// The clock of LiveGrains' own rules (timestamps, durations, presence expiry). A separate type from the
/// <see cref="TimeProvider"/> that Orleans itself uses, so tests can drive it with a FakeTimeProvider
/// without freezing the runtime's membership and timers.
/// </summary>
public sealed class LiveGrainsClock(TimeProvider provider)
{
    public static readonly LiveGrainsClock System = new(TimeProvider.System);

    public TimeProvider Provider => provider;

    public DateTimeOffset UtcNow => provider.GetUtcNow();
}
