using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace LiveGrains.Abstractions;

/// <summary>Client-chosen id rules and server id generation.</summary>
public static partial class Ids
{
    public const int MaxClientIdLength = 64;
    public const int MaxViewerIdLength = 128;

    [GeneratedRegex("^[A-Za-z0-9_.-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex ClientIdPattern();

    /// <summary>True for 1..<paramref name="maxLength"/> chars of <c>[A-Za-z0-9_.-]</c>.</summary>
    public static bool IsValidClientId(string? id, int maxLength = MaxClientIdLength) =>
        !string.IsNullOrEmpty(id) && id.Length <= maxLength && ClientIdPattern().IsMatch(id);

    public static bool IsValidViewerId(string? id) => IsValidClientId(id, MaxViewerIdLength);

    /// <summary>Server ids are opaque; server ids also obey the client-id alphabet so they are safe in paths.</summary>
    public static bool IsValidServerId(string? id, string prefix) =>
        id is not null && id.StartsWith(prefix, StringComparison.Ordinal) && IsValidClientId(id);

    /// <summary>
    /// A new id: prefix + 26 chars of Crockford base32 over 48 bits of milliseconds and 80 random bits
    /// (ULID layout), so ids are unique across the cluster without coordination and sort by creation time.
    /// </summary>
    public static string New(string prefix, DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(bytes, now.ToUnixTimeMilliseconds() << 16);
        RandomNumberGenerator.Fill(bytes[6..]);
        return prefix + Base32(bytes);
    }

    public static string NewRoomId(DateTimeOffset now) => New("rm_", now);

    /// <summary>Longest live id: <c>lv_</c>, 26 id chars, a dot and the longest room id.</summary>
    public const int MaxLiveIdLength = 3 + 26 + 1 + MaxClientIdLength;

    /// <summary>
    /// A new live id of room <paramref name="roomId"/>: <c>lv_</c> + 26 chars (as <see cref="New"/>) + <c>.</c> + the room
    /// id. The room is the owner of a live's lifecycle, so every gateway routes a live's reads and transitions to
    /// its room from the id alone, with no lookup and nothing to write first (docs/consistency.md).
    /// </summary>
    public static string NewLiveId(DateTimeOffset now, string roomId) => New("lv_", now) + "." + roomId;

    /// <summary>The room of a live id made by <see cref="NewLiveId"/>; false for anything else.</summary>
    public static bool TryGetRoomOfLive(string? liveId, out string roomId)
    {
        roomId = string.Empty;
        if (liveId is null || liveId.Length <= 30 || liveId.Length > MaxLiveIdLength
            || !liveId.StartsWith("lv_", StringComparison.Ordinal) || liveId[29] != '.')
        {
            return false;
        }

        var room = liveId[30..];
        if (!IsValidClientId(room) || !IsValidClientId(liveId[..29]))
        {
            return false;
        }

        roomId = room;
        return true;
    }

    /// <summary>True for a well-formed live id (see <see cref="NewLiveId"/>).</summary>
    public static bool IsValidLiveId(string? liveId) => TryGetRoomOfLive(liveId, out _);

    public static string NewStreamId(DateTimeOffset now) => New("st_", now);

    public static string NewEventId(DateTimeOffset now) => New("evt_", now);

    private static string Base32(ReadOnlySpan<byte> bytes)
    {
        const string alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
        Span<char> chars = stackalloc char[26];
        var hi = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        var lo = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        var value = new UInt128(hi, lo);
        for (var i = 25; i >= 0; i--)
        {
            chars[i] = alphabet[(int)(value & 31)];
            value >>= 5;
        }

        return new string(chars);
    }
}
