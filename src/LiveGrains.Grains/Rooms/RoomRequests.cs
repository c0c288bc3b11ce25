using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace LiveGrains.Grains.Rooms;

/// <summary>
/// What a room remembers of the requests it decided, so that a retry (same Idempotency-Key, after a timeout or a dead
/// silo) gets the first answer instead of a second decision. Bounded by age and count, small per entry.
/// </summary>
public static class RoomRequests
{
    /// <summary>
    /// How long a request id is remembered: longer than a retry of an unanswered request can come (the Idempotency-Key
    /// lease is 60 s, a client retries for up to minutes).
    /// </summary>
    public static readonly TimeSpan Memory = TimeSpan.FromMinutes(10);

    /// <summary>Hard bound on remembered ids (about 70 bytes each in the room's state); the oldest go first.</summary>
    public const int Limit = 256;

    /// <summary>The last ids kept whatever their age.</summary>
    public const int Minimum = 32;

    public static ulong Hash(string requestId) =>
        BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(requestId)));

    public static DecidedRequest? Find(List<DecidedRequest> recent, string? requestId)
    {
        if (requestId is null)
        {
            return null;
        }

        var hash = Hash(requestId);
        return recent.FindLast(r => r.RequestHash == hash);
    }

    /// <summary>Recorded in memory before the decision's own write, so it is exactly as durable as the decision.</summary>
    public static void Remember(List<DecidedRequest> recent, string? requestId, string liveKey, string? closedLiveKey, DateTimeOffset now)
    {
        if (requestId is null)
        {
            return;
        }

        var expired = 0;
        while (expired < recent.Count - Minimum + 1
            && (recent.Count - expired >= Limit || now - recent[expired].DecidedAt > Memory))
        {
            expired++;
        }

        if (expired > 0)
        {
            recent.RemoveRange(0, expired);
        }

        recent.Add(new DecidedRequest(Hash(requestId), liveKey, closedLiveKey, now));
    }
}
