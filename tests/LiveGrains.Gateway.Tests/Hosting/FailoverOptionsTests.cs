using LiveGrains.ServiceDefaults;
using LiveGrains.ServiceDefaults.Failover;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;

namespace LiveGrains.Gateway.Tests.Hosting;

/// <summary>
/// The fence and the directory hold are what keep a grain from running twice after a false death declaration; the
/// validator refuses settings under which a declared-dead silo could still serve after the hold (docs/scale-out.md).
/// </summary>
public sealed class FailoverOptionsTests
{
    [Fact]
    public void TheDefaultsAreValidAndTheHoldOutlastsTheFenceWhichSpansTwoChecks()
    {
        var options = new FailoverOptions();

        Assert.True(new FailoverOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(1.5), options.DirectoryHold);
        Assert.Equal(TimeSpan.FromSeconds(1.2), options.MembershipFence);
        Assert.Equal(TimeSpan.FromSeconds(0.3), options.MembershipCheckInterval);
    }

    [Theory]
    [InlineData(1.2, 1.2, 0.3, "DirectoryHoldSeconds must be longer")]
    [InlineData(1.0, 1.2, 0.3, "DirectoryHoldSeconds must be longer")]
    [InlineData(3.0, 0.5, 0.3, "at least twice Orleans:MembershipCheckIntervalSeconds")]
    [InlineData(3.0, 2.0, 0.0, "MembershipCheckIntervalSeconds must be positive")]
    public void SettingsUnderWhichADeclaredDeadSiloCouldServeAfterTheHoldAreRefused(double hold, double fence, double interval, string message)
    {
        var result = new FailoverOptionsValidator().Validate(null, new FailoverOptions
        {
            DirectoryHoldSeconds = hold,
            MembershipFenceSeconds = fence,
            MembershipCheckIntervalSeconds = interval,
        });

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSettingsBindFromTheOrleansSectionAndAreCheckedWhenFirstRead()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:DirectoryHoldSeconds"] = "1",
            ["Orleans:MembershipFenceSeconds"] = "2",
        }).Build();
        using var services = new ServiceCollection()
            .AddSingleton<IValidateOptions<FailoverOptions>, FailoverOptionsValidator>()
            .Configure<FailoverOptions>(configuration.GetSection(FailoverOptions.Section))
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<FailoverOptions>>().Value);
        Assert.Contains("DirectoryHoldSeconds must be longer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OrleansRangeLeaseIsTheDetectionWindowPlusTheHold()
    {
        // Orleans counts the lease from the estimated time of death (the declaration minus the detection window), so
        // the window is added back: the hold after the declaration is exactly DirectoryHold.
        var membership = new ClusterMembershipOptions { ProbeTimeout = TimeSpan.FromSeconds(2), NumMissedProbesLimit = 2 };

        var lease = new FailoverOptions().RangeLeaseDuration(membership);

        Assert.Equal(membership.MaxProbeTimeout * 2 + TimeSpan.FromSeconds(1.5), lease);
    }

    [Fact]
    public void ADurableSiloProbesEveryHalfSecondWhileAnswersAreFastAndKeepsTheEightSecondCeiling()
    {
        // Session 10 (docs/chaos.md): ProbeTimeout 1 s makes Orleans probe every MinProbeTimeout (0.5 s) on a healthy
        // cluster, so a killed silo is declared dead about half a second sooner; the ceiling for a slow or stalled silo,
        // and with it the directory lease's detection window, stays 8 s x 2.
        using var host = DurableSilo();

        var membership = host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
        var directory = host.Services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(1), membership.ProbeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(0.5), membership.MinProbeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(8), membership.MaxProbeTimeout);
        Assert.Equal(2, membership.NumMissedProbesLimit);
        Assert.Equal(TimeSpan.FromSeconds(8 * 2 + 1.5), directory.RangeLeaseDuration);
    }

    [Fact]
    public void TheProbeSettingsComeFromTheOrleansSection()
    {
        using var host = DurableSilo(("Orleans:ProbeTimeoutSeconds", "5"), ("Orleans:MaxProbeTimeoutSeconds", "20"));

        var membership = host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(5), membership.ProbeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2.5), membership.MinProbeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(20), membership.MaxProbeTimeout);
    }

    [Fact]
    public void TheMembershipFenceMeasuresOnTheClockOfOrleansMembership()
    {
        // The fence must agree with Orleans' failure detection and directory hold, which run on the membership clock.
        var membershipClock = new FakeTimeProvider();
        using var host = DurableSilo(services => services.AddKeyedSingleton<TimeProvider>(TimeProviderNames.Membership, membershipClock));

        var fence = host.Services.GetRequiredService<MembershipFence>();
        membershipClock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(TimeSpan.FromMinutes(5), fence.SinceConfirmation);
    }

    /// <summary>A silo host in Redis mode (built, not started: nothing connects), with <paramref name="settings"/>.</summary>
    private static IHost DurableSilo(params (string Key, string Value)[] settings) => DurableSilo(_ => { }, settings);

    private static IHost DurableSilo(Action<IServiceCollection> services, params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder();
        services(builder.Services);
        builder.Configuration["ConnectionStrings:redis"] = "127.0.0.1:6379";
        foreach (var (key, value) in settings)
        {
            builder.Configuration[key] = value;
        }

        builder.UseOrleans(silo => silo.UseLiveGrainsSilo(builder.Configuration));
        return builder.Build();
    }
}
