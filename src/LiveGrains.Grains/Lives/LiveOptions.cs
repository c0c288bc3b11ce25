namespace LiveGrains.Grains.Lives;

/// <summary>Configuration section <c>Lives</c>.</summary>
public sealed class LiveOptions
{
    /// <summary>How long a read trusts the live's own on-air status before asking its room again.</summary>
    public TimeSpan ConfirmInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an on-air live re-confirms with its room when nobody reads it.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);
}
