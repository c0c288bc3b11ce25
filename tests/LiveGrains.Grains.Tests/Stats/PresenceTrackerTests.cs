using LiveGrains.Grains.Stats;

namespace LiveGrains.Grains.Tests.Stats;

public sealed class PresenceTrackerTests
{
    /// <summary>A quiet live's tick sleeps until <see cref="PresenceTracker.NextExpiry"/>: it must be the first real expiry.</summary>
    [Fact]
    public void TheNextExpiryIsWhenTheEarliestPresentViewerTimesOutAndFollowsHeartbeatsAndLeaves()
    {
        const long t0 = 1_000_000;
        var tracker = PresenceTracker.Restore(60, null, null, t0);
        Assert.Null(tracker.NextExpiry());

        var a = ViewerOps.Hash("a");
        var b = ViewerOps.Hash("b");
        tracker.Sweep(t0);
        tracker.Apply(ViewerOps.Join | a, t0);
        tracker.Sweep(t0 + 5);
        tracker.Apply(ViewerOps.Join | b, t0 + 5);
        Assert.Equal(t0 + 60, tracker.NextExpiry());

        // a's heartbeat moves its expiry: the stale bucket may still name t0 + 60 (a sweep then finds nobody to drop),
        // never later than the real first expiry.
        tracker.Sweep(t0 + 30);
        tracker.Apply(ViewerOps.Heartbeat | a, t0 + 30);
        Assert.Equal(t0 + 60, tracker.NextExpiry());
        Assert.Equal(0, tracker.Sweep(t0 + 60));
        Assert.Equal(t0 + 65, tracker.NextExpiry());

        Assert.Equal(1, tracker.Sweep(t0 + 65));
        Assert.Equal(1, tracker.ViewerCount);
        Assert.Equal(t0 + 90, tracker.NextExpiry());

        tracker.Apply(ViewerOps.Leave | a, t0 + 70);
        Assert.Null(tracker.NextExpiry());
    }

    [Fact]
    public void TheOpenAddressingMapAgreesWithADictionaryUnderRandomSetsAndRemoves()
    {
        var map = new HashMap64();
        var reference = new Dictionary<ulong, uint>();
        var random = new Random(7);
        for (var i = 0; i < 200_000; i++)
        {
            // A small key range forces long probe chains and many backward shifts.
            var key = (ulong)random.Next(1, 5_000) * 0x10001UL;
            if (random.Next(3) == 0)
            {
                Assert.Equal(reference.Remove(key), map.Remove(key));
            }
            else
            {
                var isNew = !reference.ContainsKey(key);
                Assert.Equal(isNew, map.Set(key, (uint)i));
                reference[key] = (uint)i;
            }
        }

        Assert.Equal(reference.Count, map.Count);
        foreach (var (key, value) in reference)
        {
            Assert.True(map.TryGetValue(key, out var found));
            Assert.Equal(value, found);
        }

        var copy = HashMap64.FromBytes(map.ToBytes());
        Assert.Equal(reference.Count, copy.Count);
        Assert.All(reference, e => Assert.True(copy.TryGetValue(e.Key, out var v) && v == e.Value));
    }

    [Fact]
    public void AMillionViewersFitInFarLessThan200MegabytesAndSurviveASnapshot()
    {
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        var tracker = new PresenceTracker(60);
        const long now = 1_800_000_000;
        for (var i = 0; i < 1_000_000; i++)
        {
            tracker.Apply(ViewerOps.Join | ViewerOps.Hash("viewer-" + i), now + (i % 30));
        }

        var held = GC.GetTotalMemory(true) - before;
        Assert.Equal(1_000_000, tracker.ViewerCount);
        Assert.Equal(1_000_000, tracker.UniqueCount);
        Assert.True(held < 200L * 1024 * 1024, $"{held / (1024 * 1024)} MB held");
        Assert.True(tracker.MemoryBytes < 200L * 1024 * 1024);

        var restored = PresenceTracker.Restore(60, tracker.PresentBytes(), tracker.UniqueBytes(), now + 30);
        Assert.Equal(1_000_000, restored.ViewerCount);

        // Expiry goes bucket by bucket: after 60 s from the first joins, a thirtieth is gone each second.
        Assert.Equal(1_000_000 / 30 + 1, restored.Sweep(now + 60));
        Assert.Equal(1_000_000, restored.UniqueCount);
        Assert.Equal(0, restored.Sweep(now + 60));
        restored.Sweep(now + 90);
        Assert.Equal(0, restored.ViewerCount);
        GC.KeepAlive(tracker);
    }

    [Fact]
    public void ASecondJoinOfAPresentViewerChangesNothingAndALeaveOfAnAbsentOneToo()
    {
        var tracker = new PresenceTracker(60);
        var a = ViewerOps.Hash("a");
        Assert.Equal((1, true), tracker.Apply(ViewerOps.Join | a, 100));
        Assert.Equal((0, false), tracker.Apply(ViewerOps.Join | a, 101));
        Assert.Equal((-1, false), tracker.Apply(ViewerOps.Leave | a, 102));
        Assert.Equal((0, false), tracker.Apply(ViewerOps.Leave | a, 103));
        Assert.Equal(0, tracker.Sweep(500));
        Assert.Equal(0, tracker.ViewerCount);
        Assert.Equal(1, tracker.UniqueCount);
    }
}
