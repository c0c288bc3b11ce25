using System.Net;
using System.Net.Sockets;

namespace LiveGrains.Abstractions;

/// <summary>
/// Where webhooks may be sent: absolute http(s) URLs whose addresses are public. Checked when an endpoint is
/// registered and again on every connection (the resolved address), so DNS rebinding cannot reach the inside.
/// </summary>
public static class WebhookUrlPolicy
{
    public const int MaxUrlLength = 2048;

    /// <summary>The syntax rules; null when <paramref name="url"/> is acceptable, else why not.</summary>
    public static string? CheckSyntax(string? url, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            return "Required.";
        }

        if (url.Length > MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var parsed)
            || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(parsed.Host))
        {
            return $"Must be an absolute http or https URL of at most {MaxUrlLength} characters.";
        }

        if (parsed.UserInfo.Length > 0 || parsed.Fragment.Length > 0)
        {
            return "Must not contain credentials or a fragment.";
        }

        uri = parsed;
        return null;
    }

    /// <summary>The host of a URL as an IP literal, if it is one.</summary>
    public static IPAddress? LiteralAddress(string host) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? ip : null;

    /// <summary>False for loopback, private, link-local, CGNAT, unspecified, multicast and reserved addresses.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return !(b[0] == 0                                   // 0.0.0.0/8 "this network"
                || b[0] == 10                                    // 10/8
                || b[0] == 127                                   // loopback
                || (b[0] == 100 && (b[1] & 0xC0) == 64)          // 100.64/10 CGNAT
                || (b[0] == 169 && b[1] == 254)                  // link-local, cloud metadata
                || (b[0] == 172 && (b[1] & 0xF0) == 16)          // 172.16/12
                || (b[0] == 192 && b[1] == 168)                  // 192.168/16
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)       // 192.0.0/24 IETF protocol assignments
                || (b[0] == 198 && (b[1] & 0xFE) == 18)          // 198.18/15 benchmarking
                || b[0] >= 224);                                 // multicast, reserved, broadcast
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            return !(IPAddress.IsLoopback(address)
                || address.Equals(IPAddress.IPv6None)
                || address.IsIPv6LinkLocal                      // fe80::/10
                || address.IsIPv6SiteLocal                      // fec0::/10
                || address.IsIPv6Multicast                      // ff00::/8
                || (b[0] & 0xFE) == 0xFC                        // fc00::/7 unique local
                || address.IsIPv6Teredo
                || (b[0] == 0x20 && b[1] == 0x02));             // 6to4 can embed any IPv4 address
        }

        return false;
    }
}
