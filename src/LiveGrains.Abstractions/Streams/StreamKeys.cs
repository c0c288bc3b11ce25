using System.Security.Cryptography;
using System.Text;

namespace LiveGrains.Abstractions;

/// <summary>
/// Stream keys are <c>&lt;stream_id&gt;.&lt;secret&gt;</c>: the stream id part routes a media-server callback
/// straight to its grain (no global key index), the secret part (192 CSPRNG bits, lowercase hex) is what
/// proves the publisher. Only a digest of the whole key is stored.
/// </summary>
public static class StreamKeys
{
    public const int SecretBytes = 24;
    public const int MaxKeyLength = 200;

    public static string New(string streamId) =>
        streamId + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>The stream id a key claims to belong to, or null when it is not shaped like a key.</summary>
    public static string? StreamIdOf(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength)
        {
            return null;
        }

        var dot = key.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == key.Length - 1)
        {
            return null;
        }

        var id = key[..dot];
        return Ids.IsValidServerId(id, "st_") ? id : null;
    }

    /// <summary>SHA-256 over "stream_id:key": salted by the stream id, so equal secrets never share a digest.</summary>
    public static byte[] Hash(string streamId, string key) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(streamId + ":" + key));

    /// <summary>Constant-time check of a presented key against the stored digest.</summary>
    public static bool Matches(string streamId, string presented, byte[]? storedHash) =>
        storedHash is { Length: 32 } && CryptographicOperations.FixedTimeEquals(Hash(streamId, presented), storedHash);
}
