using System.Numerics;

namespace LiveGrains.Bench;

/// <summary>
/// A log-linear latency histogram in microseconds, in the spirit of HdrHistogram: exact below 128 µs,
/// then 64 buckets per power of two, so any reported value is within 1.6% of the recorded one.
/// Not thread-safe: each worker records into its own and the runner merges them.
/// </summary>
public sealed class Histogram
{
    private const int SubBucketBits = 6;
    private const int SubBucketCount = 1 << SubBucketBits;
    private const int LinearLimit = SubBucketCount * 2;
    private const int MaxExponent = 40; // 2^40 µs is 12 days: anything longer is clamped.

    private readonly long[] _counts = new long[LinearLimit + ((MaxExponent - SubBucketBits) * SubBucketCount)];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public double Sum { get; private set; }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    public void Record(long micros)
    {
        micros = Math.Max(0, micros);
        _counts[IndexOf(micros)]++;
        Count++;
        Sum += micros;
        Max = Math.Max(Max, micros);
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The highest value equivalent to the one at <paramref name="percentile"/> (0-100), never above <see cref="Max"/>.</summary>
    public long Percentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var target = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= target)
            {
                return Math.Min(HighestEquivalent(i), Max);
            }
        }

        return Max;
    }

    private int IndexOf(long value)
    {
        if (value < LinearLimit)
        {
            return (int)value;
        }

        // value >> shift lands in [64, 128): the top seven bits pick the bucket.
        var shift = BitOperations.Log2((ulong)value) - SubBucketBits;
        var index = LinearLimit + ((shift - 1) * SubBucketCount) + (int)(value >> shift) - SubBucketCount;
        return Math.Min(index, _counts.Length - 1);
    }

    private static long HighestEquivalent(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var offset = index - LinearLimit;
        var shift = (offset / SubBucketCount) + 1;
        var sub = (long)((offset % SubBucketCount) + SubBucketCount);
        return ((sub + 1) << shift) - 1;
    }
}
