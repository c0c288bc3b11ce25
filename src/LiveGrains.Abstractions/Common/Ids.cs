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

    public static string NewLiveId(DateTimeOffset now) => New("lv_", now);

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
