using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace LiveGrains.Gateway.Tests.Access;

/// <summary>Managed keys and tokens as a tenant's own server and apps would make them.</summary>
internal static class AccessTestKit
{
    public sealed record Key(string KeyId, string Secret);

    public static async Task<Key> CreateKeyAsync(this HttpClient admin, params string[] scopes)
    {
        var body = scopes.Length == 0
            ? JsonSerializer.Serialize(new { name = Http.Unique("key") })
            : JsonSerializer.Serialize(new { name = Http.Unique("key"), scopes });
        var created = await (await admin.PostAsync("/v1/api-keys", body)).OkJsonAsync(HttpStatusCode.Created);
        return new Key(created.GetProperty("key_id").GetString()!, created.GetProperty("secret").GetString()!);
    }

    public static HttpClient Client(this GatewayFactory factory, string bearer)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    /// <summary>An HS256 token signed with the UTF-8 bytes of <paramref name="secret"/>, as LiveKit's SDKs sign theirs.</summary>
    public static string Token(
        string issuer, string secret, string sub, object grants, TimeSpan? expiresIn = null, DateTime? notBefore = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            IssuedAt = notBefore ?? now,
            NotBefore = notBefore ?? now,
            Expires = now + (expiresIn ?? TimeSpan.FromMinutes(10)),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = sub,
                ["grants"] = JsonSerializer.SerializeToElement(grants),
            },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        });
    }

    public static string Token(this Key key, string sub, object grants, TimeSpan? expiresIn = null) =>
        Token(key.KeyId, key.Secret, sub, grants, expiresIn);
}
