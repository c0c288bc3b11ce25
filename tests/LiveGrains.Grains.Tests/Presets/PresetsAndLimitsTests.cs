using LiveGrains.Abstractions;
using LiveGrains.Grains.Presets;
using LiveGrains.Testing;

namespace LiveGrains.Grains.Tests.Presets;

[Collection(ClusterCollection.Name)]
public sealed class PresetsAndLimitsTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private IGrainFactory Grains => fixture.Client;

    /// <summary>Presets are per tenant, so each test that sets a default owns its tenant.</summary>
    private static string NewTenant() => "t-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task ALiveStartsFromItsRoomsPresetElseTheTenantDefaultElseTheBuiltInDefaults()
    {
        var tenant = NewTenant();
        var registry = Grains.GetGrain<IPresetRegistryGrain>(tenant);

        // No preset at all: the built-in defaults.
        var (_, bare) = await Grains.NewRoomAsync(tenant: tenant);
        var plain = (await bare.GoLiveAsync(new GoLiveCommand("t", null))).Value().Live;
        Assert.True(plain.EffectiveChatEnabled);
        Assert.Null(plain.EffectiveMaxJoinLimit);
        Assert.False(plain.EffectiveRecordingEnabled);
        Assert.Null(plain.PresetId);

        var fallback = (await registry.CreateAsync(new CreatePresetCommand("default", false, 50, true, IsDefault: true))).Value();
        var own = (await registry.CreateAsync(new CreatePresetCommand("own", true, 7, false, IsDefault: false))).Value();

        // A room without a preset takes the tenant's default: the registry's silo sees the change at once, the other
        // silo's cache once it is PresetCache.Ttl old on the clock.
        fixture.Time.Advance(PresetCache.Ttl);
        var (_, defaulted) = await Grains.NewRoomAsync(tenant: tenant);
        var fromDefault = await Eventually.ValueAsync(
            async () => (await defaulted.ScheduleLiveAsync(new ScheduleLiveCommand("s", null))).Value(),
            live => live.PresetId == fallback.PresetId, Timeout, "the tenant's default preset to apply");
        Assert.False(fromDefault.EffectiveChatEnabled);
        Assert.Equal(50, fromDefault.EffectiveMaxJoinLimit);
        Assert.True(fromDefault.EffectiveRecordingEnabled);

        // A room naming its preset takes that one; the live's overrides win over it.
        var roomId = GrainTestKit.NewRoomId();
        var named = Grains.Room(roomId, tenant);
        var room = (await named.CreateAsync(new CreateRoomCommand("r", null, TakeoverPolicy.Takeover, 60, PresetId: own.PresetId))).Value();
        Assert.Equal(own.PresetId, room.PresetId);
        var live = (await named.GoLiveAsync(new GoLiveCommand("t", null, Overrides: new LiveOverrides(ChatEnabled: false)))).Value().Live;
        Assert.Equal(own.PresetId, live.PresetId);
        Assert.False(live.ChatEnabledOverride);
        Assert.False(live.EffectiveChatEnabled);
        Assert.Equal(7, live.EffectiveMaxJoinLimit);
        Assert.Null(live.MaxJoinLimitOverride);

        // A PATCH sets and clears overrides; a cleared one falls back to the preset's value.
        var patched = (await named.UpdateLiveAsync(live.LiveId, new UpdateLiveCommand(null, null,
            new LiveOverrides(ChatEnabled: null, MaxJoinLimit: 3), LiveOverrideFields.ChatEnabled | LiveOverrideFields.MaxJoinLimit))).Value();
        Assert.Null(patched.ChatEnabledOverride);
        Assert.True(patched.EffectiveChatEnabled);
        Assert.Equal(3, patched.MaxJoinLimitOverride);
        Assert.Equal(3, patched.EffectiveMaxJoinLimit);
        Assert.Equal(3, (await Grains.Live(live.LiveId).GetAsync(tenant)).Value().EffectiveMaxJoinLimit);
    }

    [Fact]
    public async Task ARoomNamingAnUnknownOrForeignPresetIsRefusedOnPresetId()
    {
        var tenant = NewTenant();
        var foreign = (await Grains.GetGrain<IPresetRegistryGrain>(NewTenant()).CreateAsync(new CreatePresetCommand("x", true, null, false, false))).Value();

        var refused = await Grains.Room(GrainTestKit.NewRoomId(), tenant).CreateAsync(new CreateRoomCommand("r", null, TakeoverPolicy.Takeover, 60, PresetId: foreign.PresetId));
        Assert.Equal("preset_id", refused.Failure(DomainErrorCode.ValidationFailed).Field);

        var (_, room) = await Grains.NewRoomAsync(tenant: tenant);
        var patch = await room.UpdateAsync(new UpdateRoomCommand(null, null, null, null, PresetId: "ps_00000000000000000000000000"));
        Assert.Equal("preset_id", patch.Failure(DomainErrorCode.ValidationFailed).Field);
    }

    [Fact]
    public async Task OnlyOnePresetIsTheDefaultAndADeletedOneIsGone()
    {
        var registry = Grains.GetGrain<IPresetRegistryGrain>(NewTenant());
        var first = (await registry.CreateAsync(new CreatePresetCommand("a", true, null, false, IsDefault: true))).Value();
        var second = (await registry.CreateAsync(new CreatePresetCommand("b", true, 10, false, IsDefault: true))).Value();

        var all = await registry.ListAsync();
        Assert.Equal([first.PresetId, second.PresetId], all.Select(p => p.PresetId));
        Assert.Equal([second.PresetId], all.Where(p => p.IsDefault).Select(p => p.PresetId));

        var updated = (await registry.UpdateAsync(second.PresetId, new UpdatePresetCommand("b2", false, MaxJoinLimitSet: true, null, null, null))).Value();
        Assert.Equal("b2", updated.Name);
        Assert.Null(updated.MaxJoinLimit);
        Assert.False(updated.ChatEnabled);
        Assert.True(updated.IsDefault);

        (await registry.DeleteAsync(first.PresetId)).Value();
        (await registry.GetAsync(first.PresetId)).Failure(DomainErrorCode.NotFound);
        (await registry.DeleteAsync(first.PresetId)).Failure(DomainErrorCode.NotFound);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(25)]
    public async Task ConcurrentJoinsFromBothSilosAreAdmittedExactlyUpToTheLimit(int limit)
    {
        var tenant = NewTenant();
        var (_, room) = await Grains.NewRoomAsync(tenant: tenant);
        var live = (await room.GoLiveAsync(new GoLiveCommand("t", null, Overrides: new LiveOverrides(MaxJoinLimit: limit)))).Value().Live;

        // 4N distinct viewers join at once, one request each, spread over both silos' workers.
        var receipts = await Task.WhenAll(Enumerable.Range(0, 4 * limit).Select(i =>
            Grains.GetGrain<ILiveActivityGrain>(live.LiveId).RecordAsync(tenant, new ActivityRequest(Joins: ["v" + i]))));
        Assert.Equal(limit, receipts.Sum(r => r.Value().Accepted));
        Assert.Equal(3 * limit, receipts.Sum(r => r.Value().RejectedJoins));

        var stats = (await Grains.GetGrain<ILiveStatsGrain>(live.LiveId).GetStatsAsync(tenant)).Value();
        Assert.Equal(limit, stats.ViewerCount);
        Assert.Equal(limit, stats.PeakViewerCount);

        // A present viewer's heartbeat is never refused; a leave frees one place, which the next join takes.
        var inside = receipts.Select((receipt, i) => (receipt, i)).Where(x => x.receipt.Value().Accepted == 1).Select(x => "v" + x.i).ToArray();
        var worker = Grains.GetGrain<ILiveActivityGrain>(live.LiveId);
        Assert.Equal(0, (await worker.RecordAsync(tenant, new ActivityRequest(Heartbeats: inside))).Value().RejectedJoins);
        Assert.Equal(0, (await worker.RecordAsync(tenant, new ActivityRequest(Leaves: [inside[0]]))).Value().RejectedJoins);
        var admitted = (await worker.RecordAsync(tenant, new ActivityRequest(Joins: ["late-1", "late-2"]))).Value();
        Assert.Equal(1, admitted.Accepted);
        Assert.Equal(1, admitted.RejectedJoins);
    }

    [Fact]
    public async Task ABatchCountsJoinsAboveTheLimitAsRejectedAndDisabledChatIsRefused()
    {
        var tenant = NewTenant();
        var (_, room) = await Grains.NewRoomAsync(tenant: tenant);
        var live = (await room.GoLiveAsync(new GoLiveCommand("t", null, Overrides: new LiveOverrides(ChatEnabled: false, MaxJoinLimit: 3)))).Value().Live;
        var worker = Grains.GetGrain<ILiveActivityGrain>(live.LiveId);

        var receipt = (await worker.RecordAsync(tenant, new ActivityRequest(Joins: ["a", "b", "c", "d", "e"], Likes: 2, ChatMessages: 4))).Value();
        Assert.Equal(2, receipt.RejectedJoins);
        Assert.Equal(4, receipt.RejectedChatMessages);
        Assert.Equal(3 + 2, receipt.Accepted);

        var stats = await Eventually.ValueAsync(
            async () => (await Grains.GetGrain<ILiveStatsGrain>(live.LiveId).GetStatsAsync(tenant)).Value(),
            s => s.LikeCount == 2, Timeout, "the likes to be counted");
        Assert.Equal(3, stats.ViewerCount);
        Assert.Equal(0, stats.ChatMessageCount);
    }

    [Fact]
    public async Task ChangingTheOverridesOfALiveOnAirReachesTheSilosAtOnce()
    {
        var tenant = NewTenant();
        var (_, room) = await Grains.NewRoomAsync(tenant: tenant);
        var live = (await room.GoLiveAsync(new GoLiveCommand("t", null))).Value().Live;
        var worker = Grains.GetGrain<ILiveActivityGrain>(live.LiveId);

        // No limit: joins are buffered (no call per join); both silos' workers learn the gate.
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(2, (await worker.RecordAsync(tenant, new ActivityRequest(Joins: ["w" + i], ChatMessages: 1))).Value().Accepted);
        }

        await Eventually.ValueAsync(
            async () => (await Grains.GetGrain<ILiveStatsGrain>(live.LiveId).GetStatsAsync(tenant)).Value(),
            s => s.ViewerCount == 6, Timeout, "the buffered joins to be flushed");

        (await room.UpdateLiveAsync(live.LiveId, new UpdateLiveCommand(null, null,
            new LiveOverrides(ChatEnabled: false, MaxJoinLimit: 6), LiveOverrideFields.ChatEnabled | LiveOverrideFields.MaxJoinLimit))).Value();

        // The very next requests, on either silo, see the new settings: no flush in between.
        for (var i = 0; i < 4; i++)
        {
            var receipt = (await worker.RecordAsync(tenant, new ActivityRequest(Joins: ["x" + i], ChatMessages: 1))).Value();
            Assert.Equal(1, receipt.RejectedJoins);
            Assert.Equal(1, receipt.RejectedChatMessages);
        }
    }
}

[Collection(ClusterCollection.Name)]
public sealed class HostPresenceTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task HostPresenceIsRecordedUntilTheLiveEndsAndALiveWithoutIngestIsNotStreaming()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var live = (await room.GoLiveAsync(new GoLiveCommand(null, "alice"))).Value().Live;

        // Without Links:WatchUrlTemplate and Ingest:HlsBaseUrl (this cluster sets neither) there are no links.
        Assert.Null(live.WatchUrl);
        Assert.Null(live.Playback);
        Assert.Equal("Room", live.Title?[..4]);

        // is_streaming follows the live's ingest feeds: HostPresenceHttpTests drives it through the media-server hooks.
        Assert.False((await Grains.Live(live.LiveId).GetAsync(GrainTestKit.Acme)).Value().Host!.IsStreaming);

        var entered = (await room.SetHostPresenceAsync(live.LiveId, entered: true, "alice")).Value();
        Assert.Equal(HostState.Entered, entered.Host!.State);
        var ended = (await Grains.TransitionLiveAsync(GrainTestKit.Acme, live.LiveId, new LiveCommand(LiveCommandKind.End))).Value();
        Assert.False(ended.Host!.IsStreaming);
        (await room.SetHostPresenceAsync(live.LiveId, entered: false, null)).Failure(DomainErrorCode.LiveEnded);
    }
}
