namespace LiveGrains.ServiceDefaults;

public static class LiveGrainsTelemetry
{
    public const string MeterName = "LiveGrains";
    public const string ActivitySourceName = "LiveGrains";
}
