using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace LiveGrains.Gateway.Apis.Compat.LiveKitPlatform;

/// <summary>
/// LiveKit access tokens (JWT, HS256, signed with the LiveKit server's API secret, <c>iss</c> = its API key,
/// <c>sub</c> = the participant identity, and a <c>video</c> grant for one room), as LiveKit's server SDKs mint them,
/// so a host joins a real LiveKit server with the <c>livekit_token</c> of a go-live. Signed by hand rather than with
/// <c>JsonWebTokenHandler</c>: LiveKit secrets may be shorter than the 256 bits that handler insists on for HS256.
/// </summary>
public static class LiveKitAccessTokens
{
    public static string Create(LiveKitCompatOptions options, string identity, string room, bool canPublish, DateTimeOffset now)
    {
        var header = new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT" };
        var payload = new JsonObject
        {
            ["iss"] = options.ApiKey,
            ["sub"] = identity,
            ["name"] = identity,
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddSeconds(options.TokenTtlSeconds).ToUnixTimeSeconds(),
            ["jti"] = identity + "-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant(),
            ["video"] = new JsonObject
            {
                ["room"] = room,
                ["roomJoin"] = true,
                ["canPublish"] = canPublish,
                ["canSubscribe"] = true,
                ["canPublishData"] = true,
            },
        };
        var signingInput = Base64Url(header.ToJsonString()) + "." + Base64Url(payload.ToJsonString());
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.ApiSecret!), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(string text) => Base64Url(Encoding.UTF8.GetBytes(text));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
