namespace LiveGrains.Grains.Stats;

/// <summary>
/// Who is watching, as a pure type: viewer hash -> last second seen, the exact set of hashes ever seen, and a
/// timing wheel of one bucket a second so expiry touches only the viewers last seen in the seconds that just
/// expired (amortized O(1) a heartbeat, never a scan of everyone).
/// </summary>
public sealed class PresenceTracker(int timeoutSeconds)
{
    private HashMap64 _present = new();
    private HashSet64 _unique = new();
    private readonly List<ulong>?[] _wheel = new List<ulong>?[timeoutSeconds + 2];
    private long _sweptThrough = long.MinValue;

    public int TimeoutSeconds => timeoutSeconds;

    public long ViewerCount => _present.Count;

    public long UniqueCount => _unique.Count;

    public long MemoryBytes => _present.MemoryBytes + _unique.MemoryBytes + _wheel.Sum(b => (b?.Capacity ?? 0) * 8L);

    public static PresenceTracker Restore(int timeoutSeconds, byte[]? present, byte[]? unique, long now)
    {
        var tracker = new PresenceTracker(timeoutSeconds);
        tracker.Load(HashMap64.FromBytes(present), HashSet64.FromBytes(unique), now);
        return tracker;
    }

    /// <summary>Whether the viewer of this hash (without a kind) is present now.</summary>
    public bool IsPresent(ulong hash) => _present.TryGetValue(hash & ViewerOps.HashMask, out _);

    /// <summary>Applies one op (kind in the top bits); returns +1 / -1 / 0 for the viewer count and whether it was a view.</summary>
    public (int Delta, bool View) Apply(ulong op, long now)
    {
        var hash = op & ViewerOps.HashMask;
        var kind = op & ~ViewerOps.HashMask;
        if (kind == ViewerOps.Leave)
        {
            return (_present.Remove(hash) ? -1 : 0, false);
        }

        // A heartbeat of a viewer that is not present (it expired during a network gap) brings it back,
        // exactly like a join: the viewer is evidently watching again.
        var seen = (uint)now;
        if (_present.TryGetValue(hash, out var last) && last == seen)
        {
            return (0, false);
        }

        var added = _present.Set(hash, seen);
        Bucket(now).Add(hash);
        if (added)
        {
            _unique.Add(hash);
        }

        return (added ? 1 : 0, added);
    }

    /// <summary>Expires viewers not seen for the timeout; returns how many left.</summary>
    public int Sweep(long now)
    {
        var through = now - timeoutSeconds;
        if (_sweptThrough == long.MinValue)
        {
            _sweptThrough = through;
            return 0;
        }

        var expired = 0;
        var from = Math.Max(_sweptThrough + 1, through - _wheel.Length + 1);
        for (var second = from; second <= through; second++)
        {
            var index = WheelIndex(second);
            if (_wheel[index] is not { } bucket)
            {
                continue;
            }

            foreach (var hash in bucket)
            {
                // A viewer seen again since sits in a later bucket too; only its latest second counts.
                if (_present.TryGetValue(hash, out var last) && last + timeoutSeconds <= now && _present.Remove(hash))
                {
                    expired++;
                }
            }

            _wheel[index] = null;
        }

        _sweptThrough = Math.Max(_sweptThrough, through);
        return expired;
    }

    /// <summary>
    /// The unix second at which the earliest present viewer expires unless seen again (the oldest unswept bucket plus
    /// the timeout), or null when nobody is present or nothing was swept yet. Lets a quiet live sleep until then.
    /// </summary>
    public long? NextExpiry()
    {
        if (_present.Count == 0 || _sweptThrough == long.MinValue)
        {
            return null;
        }

        // The unswept seconds are fewer than the wheel's buckets, so each has a bucket of its own.
        for (var second = _sweptThrough + 1; second <= _sweptThrough + _wheel.Length; second++)
        {
            var index = WheelIndex(second);
            if (_wheel[index] is { Count: > 0 })
            {
                return second + timeoutSeconds;
            }
        }

        return null;
    }

    /// <summary>
    /// Merges a set persisted by another activation of the same live (a duplicate left by a directory handoff
    /// while a silo stopped, or an activation that read before the previous one's last write): the unique sets
    /// are united, and a viewer present there and not expired is present here with the later second. A leave
    /// applied only there cannot be told from a viewer never seen here, so such a viewer stays until its timeout.
    /// </summary>
    public void Merge(byte[]? present, byte[]? unique, long now)
    {
        foreach (var hash in HashSet64.FromBytes(unique).Keys())
        {
            _unique.Add(hash);
        }

        foreach (var (hash, last) in HashMap64.FromBytes(present).Entries())
        {
            _unique.Add(hash);
            if (last + timeoutSeconds > now && (!_present.TryGetValue(hash, out var mine) || mine < last))
            {
                _present.Set(hash, last);
                Bucket(last).Add(hash);
            }
        }
    }

    /// <summary>Adds the viewers of these ops (leaves aside) to the unique set only: activity of an ended live.</summary>
    public void AddUnique(IEnumerable<ulong> ops) => ViewerOps.AddViewers(_unique, ops);

    public byte[] PresentBytes() => _present.ToBytes();

    public byte[] UniqueBytes() => _unique.ToBytes();

    public void Release()
    {
        _present.Clear();
        _unique.Clear();
        Array.Clear(_wheel);
    }

    private void Load(HashMap64 present, HashSet64 unique, long now)
    {
        _present = present;
        _unique = unique;
        var stale = new List<ulong>();
        foreach (var (hash, last) in present.Entries())
        {
            _unique.Add(hash);
            if (last + timeoutSeconds > now)
            {
                Bucket(last).Add(hash);
            }
            else
            {
                stale.Add(hash);
            }
        }

        // Viewers that expired while nobody held the set go now, without waiting for a bucket.
        foreach (var hash in stale)
        {
            _present.Remove(hash);
        }

        _sweptThrough = now - timeoutSeconds;
    }

    private int WheelIndex(long second) => (int)(((second % _wheel.Length) + _wheel.Length) % _wheel.Length);

    private List<ulong> Bucket(long second)
    {
        var index = WheelIndex(second);
        return _wheel[index] ??= [];
    }
}
