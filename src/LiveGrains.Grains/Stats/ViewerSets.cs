using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Stats;

/// <summary>
/// Viewer ids as 62-bit hashes. System.IO.Hashing (XxHash64) is a NuGet package, not part of the shared
/// framework, so this is FNV-1a over the id's chars finished with the MurmurHash3 fmix64 avalanche. Among
/// 10^6 distinct ids the chance of any collision is about n^2/2^63 ~ 1e-7 (docs/stats.md); the hash must
/// never change, since persisted viewer sets hold hashes, not ids.
/// </summary>
public static class ViewerOps
{
    public const ulong Join = 1UL << 62;
    public const ulong Heartbeat = 2UL << 62;
    public const ulong Leave = 3UL << 62;
    public const ulong HashMask = (1UL << 62) - 1;

    public static ulong Hash(string viewerId)
    {
        var h = 14695981039346656037UL;
        foreach (var c in viewerId)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        h &= HashMask;
        return h == 0 ? 1 : h;
    }

    /// <summary>Adds the viewer of each op that is not a leave to <paramref name="set"/>; returns how many were new.</summary>
    public static int AddViewers(HashSet64 set, IEnumerable<ulong> ops)
    {
        var added = 0;
        foreach (var op in ops)
        {
            if ((op & ~HashMask) != Leave && set.Add(op & HashMask))
            {
                added++;
            }
        }

        return added;
    }

    /// <summary>Joins, then heartbeats, then leaves of one request, in that order.</summary>
    public static ulong[] Encode(ActivityRequest request)
    {
        var ops = new ulong[(request.Joins?.Length ?? 0) + (request.Heartbeats?.Length ?? 0) + (request.Leaves?.Length ?? 0)];
        var i = 0;
        foreach (var id in request.Joins ?? [])
        {
            ops[i++] = Join | Hash(id);
        }

        foreach (var id in request.Heartbeats ?? [])
        {
            ops[i++] = Heartbeat | Hash(id);
        }

        foreach (var id in request.Leaves ?? [])
        {
            ops[i++] = Leave | Hash(id);
        }

        return ops;
    }
}

/// <summary>
/// Open-addressing (linear probing) map of non-zero 62-bit hash -> uint, two flat arrays: 12 bytes a slot,
/// at most 70% full, so a million viewers take ~24 MB. Deletion shifts back (no tombstones).
/// </summary>
public sealed class HashMap64
{
    private ulong[] _keys = [];
    private uint[] _values = [];
    private int _mask = -1;

    public int Count { get; private set; }

    public bool TryGetValue(ulong key, out uint value)
    {
        if (Count > 0)
        {
            for (var i = Slot(key); ; i = (i + 1) & _mask)
            {
                var k = _keys[i];
                if (k == key)
                {
                    value = _values[i];
                    return true;
                }

                if (k == 0)
                {
                    break;
                }
            }
        }

        value = 0;
        return false;
    }

    /// <summary>Sets the value; true when the key was new.</summary>
    public bool Set(ulong key, uint value)
    {
        if ((Count + 1) * 10 > _keys.Length * 7)
        {
            Resize(Math.Max(16, _keys.Length * 2));
        }

        for (var i = Slot(key); ; i = (i + 1) & _mask)
        {
            var k = _keys[i];
            if (k == key)
            {
                _values[i] = value;
                return false;
            }

            if (k == 0)
            {
                _keys[i] = key;
                _values[i] = value;
                Count++;
                return true;
            }
        }
    }

    public bool Remove(ulong key)
    {
        if (Count == 0)
        {
            return false;
        }

        var i = Slot(key);
        while (_keys[i] != key)
        {
            if (_keys[i] == 0)
            {
                return false;
            }

            i = (i + 1) & _mask;
        }

        // Backward-shift deletion keeps every probe chain unbroken.
        var hole = i;
        for (var j = (hole + 1) & _mask; _keys[j] != 0; j = (j + 1) & _mask)
        {
            var home = Slot(_keys[j]);
            if (((j - home) & _mask) >= ((j - hole) & _mask))
            {
                _keys[hole] = _keys[j];
                _values[hole] = _values[j];
                hole = j;
            }
        }

        _keys[hole] = 0;
        _values[hole] = 0;
        Count--;
        return true;
    }

    public void Clear()
    {
        _keys = [];
        _values = [];
        _mask = -1;
        Count = 0;
    }

    public IEnumerable<(ulong Key, uint Value)> Entries()
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] != 0)
            {
                yield return (_keys[i], _values[i]);
            }
        }
    }

    /// <summary>Occupied entries as little-endian (u64 key, u32 value) pairs: 12 bytes a viewer.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Count * 12];
        var o = 0;
        for (var i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] != 0)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(o), _keys[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(o + 8), _values[i]);
                o += 12;
            }
        }

        return bytes;
    }

    public static HashMap64 FromBytes(byte[]? bytes)
    {
        var map = new HashMap64();
        if (bytes is { Length: > 0 })
        {
            map.Resize(CapacityFor(bytes.Length / 12));
            for (var o = 0; o + 12 <= bytes.Length; o += 12)
            {
                map.Set(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(o)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o + 8)));
            }
        }

        return map;
    }

    /// <summary>Bytes held by the arrays.</summary>
    public long MemoryBytes => _keys.Length * 12L;

    internal static int CapacityFor(int count) => (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, (count * 10 / 7) + 1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> 32) & _mask;

    private void Resize(int capacity)
    {
        var keys = _keys;
        var values = _values;
        _keys = new ulong[capacity];
        _values = new uint[capacity];
        _mask = capacity - 1;
        Count = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            if (keys[i] != 0)
            {
                Set(keys[i], values[i]);
            }
        }
    }
}

/// <summary>Open-addressing set of non-zero 62-bit hashes: 8 bytes a slot, at most 70% full (~16 MB a million).</summary>
public sealed class HashSet64
{
    private ulong[] _keys = [];
    private int _mask = -1;

    public int Count { get; private set; }

    public long MemoryBytes => _keys.Length * 8L;

    public bool Add(ulong key)
    {
        if ((Count + 1) * 10 > _keys.Length * 7)
        {
            Resize(Math.Max(16, _keys.Length * 2));
        }

        for (var i = Slot(key); ; i = (i + 1) & _mask)
        {
            var k = _keys[i];
            if (k == key)
            {
                return false;
            }

            if (k == 0)
            {
                _keys[i] = key;
                Count++;
                return true;
            }
        }
    }

    public void Clear()
    {
        _keys = [];
        _mask = -1;
        Count = 0;
    }

    public IEnumerable<ulong> Keys()
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] != 0)
            {
                yield return _keys[i];
            }
        }
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Count * 8];
        var o = 0;
        foreach (var k in _keys)
        {
            if (k != 0)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(o), k);
                o += 8;
            }
        }

        return bytes;
    }

    public static HashSet64 FromBytes(byte[]? bytes)
    {
        var set = new HashSet64();
        if (bytes is { Length: > 0 })
        {
            set.Resize(HashMap64.CapacityFor(bytes.Length / 8));
            for (var o = 0; o + 8 <= bytes.Length; o += 8)
            {
                set.Add(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(o)));
            }
        }

        return set;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> 32) & _mask;

    private void Resize(int capacity)
    {
        var keys = _keys;
        _keys = new ulong[capacity];
        _mask = capacity - 1;
        Count = 0;
        foreach (var k in keys)
        {
            if (k != 0)
            {
                Add(k);
            }
        }
    }
}
