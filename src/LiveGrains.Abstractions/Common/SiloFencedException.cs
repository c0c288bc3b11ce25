namespace LiveGrains.Abstractions;

/// <summary>
/// A silo refused a grain call because it could not confirm its own membership recently enough: it may have been
/// declared dead (paused, isolated) and its grains re-activated elsewhere. The call did not run, so it is safe to retry.
/// </summary>
[GenerateSerializer, Alias("LiveGrains.SiloFencedException")]
public sealed class SiloFencedException : OrleansException
{
    public SiloFencedException()
    {
    }

    public SiloFencedException(string message)
        : base(message)
    {
    }

    public SiloFencedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
