using LiveGrains.Grains;

namespace LiveGrains.ServiceDefaults;

public static class LiveGrainsTelemetry
{
    public const string MeterName = LiveGrainsMetrics.MeterName;
    public const string ActivitySourceName = "LiveGrains";
}
