namespace LiveGrains.Grains.Streams;

/// <summary>Configuration section <c>Streams</c>.</summary>
public sealed class StreamOptions
{
    /// <summary>
    /// The period of the durable reconnect-window reminder once it is due (it re-fires until the window is
    /// settled). Bounded below by Orleans' <c>ReminderOptions.MinimumReminderPeriod</c>.
    /// </summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most recording sessions kept in a stream's history (oldest dropped first).</summary>
    public int MaxRecordingSessions { get; set; } = 100;
}
