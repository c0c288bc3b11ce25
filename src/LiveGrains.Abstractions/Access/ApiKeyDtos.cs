using System.Security.Cryptography;
using System.Text;

namespace LiveGrains.Abstractions;

/// <summary>What a key may do: <c>read</c> = GET only; <c>write</c> = everything but key management; <c>admin</c> = all.</summary>
public enum ApiKeyScope
{
    Read = 0,
    Write = 1,
    Admin = 2,
}

/// <summary>A managed key as listed: never its secret.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.ApiKey")]
public sealed record ApiKeyDto(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Name,
    [property: Id(2)] IReadOnlyList<ApiKeyScope> Scopes,
    [property: Id(3)] DateTimeOffset CreatedAt);

/// <summary>The answer to a create: the only time the secret exists outside its holder.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.CreatedApiKey")]
public sealed record CreatedApiKeyDto(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Secret,
    [property: Id(2)] string Name,
    [property: Id(3)] IReadOnlyList<ApiKeyScope> Scopes,
    [property: Id(4)] DateTimeOffset CreatedAt);

/// <summary>
/// What a gateway needs to verify a key or a token signed with it. <see cref="SecretDigest"/> is SHA-256 of the
/// secret's UTF-8 bytes; secrets are longer than HMAC-SHA256's 64-byte block, so HMAC itself keys with that same
/// digest (RFC 2104), and the digest verifies both the key and HS256 tokens signed with the secret.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.ApiKeyCredential")]
public sealed record ApiKeyCredential(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Tenant,
    [property: Id(2)] byte[] SecretDigest,
    [property: Id(3)] ApiKeyScope Scope,
    [property: Id(4)] bool Revoked);

[GenerateSerializer, Immutable, Alias("LiveGrains.CreateApiKeyCommand")]
public sealed record CreateApiKeyCommand(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<ApiKeyScope> Scopes);

/// <summary>Managed key ids and secrets: <c>key_&lt;26&gt;</c> and <c>lgsk_&lt;the same 26&gt;_&lt;64 random base64url&gt;</c>.</summary>
public static class ApiKeySecrets
{
    public const string KeyIdPrefix = "key_";
    public const string SecretPrefix = "lgsk_";
    private const int IdChars = 26;
    private const int RandomBytes = 48;

    /// <summary>The secret embeds its key id, so verifying it is one lookup by id and one digest comparison.</summary>
    public static string NewSecret(string keyId)
    {
        var random = Convert.ToBase64String(RandomNumberGenerator.GetBytes(RandomBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return SecretPrefix + keyId[KeyIdPrefix.Length..] + "_" + random;
    }

    public static bool IsKeyId(string? value) =>
        value is not null && value.Length == KeyIdPrefix.Length + IdChars && Ids.IsValidServerId(value, KeyIdPrefix);

    /// <summary>The key id a secret names, or null when it is not shaped like a managed secret.</summary>
    public static string? KeyIdOf(ReadOnlySpan<char> secret)
    {
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal) || secret.Length < SecretPrefix.Length + IdChars + 2
            || secret[SecretPrefix.Length + IdChars] != '_')
        {
            return null;
        }

        var keyId = KeyIdPrefix + secret.Slice(SecretPrefix.Length, IdChars).ToString();
        return IsKeyId(keyId) ? keyId : null;
    }

    public static byte[] Digest(ReadOnlySpan<char> secret)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(secret)];
        Encoding.UTF8.GetBytes(secret, bytes);
        return SHA256.HashData(bytes);
    }
}
