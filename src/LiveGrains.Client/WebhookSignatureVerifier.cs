using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LiveGrains.Client;

/// <summary>Why a webhook was refused; never contains the secret or the expected signature.</summary>
public sealed class WebhookVerificationException(string message) : Exception(message);

/// <summary>
/// Verifies a LiveGrains webhook per the Standard Webhooks spec, for receivers: <c>webhook-signature</c> holds one or
/// more space-separated <c>v1,&lt;base64 HMAC-SHA256&gt;</c> over <c>{webhook-id}.{webhook-timestamp}.{raw body}</c>,
/// keyed with the base64 part of the endpoint's <c>whsec_</c> secret. Signatures are compared in constant time, and a
/// timestamp further than <see cref="Tolerance"/> from now is refused, so a captured delivery cannot be replayed later.
/// Verify the raw body bytes as received, before parsing them.
/// </summary>
public sealed class WebhookSignatureVerifier
{
    private const string SecretPrefix = "whsec_";
    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public WebhookSignatureVerifier(string secret, TimeSpan? tolerance = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secret);
        try
        {
            _key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        }
        catch (FormatException)
        {
            throw new ArgumentException("Not a webhook secret (expected whsec_<base64>).", nameof(secret));
        }

        Tolerance = tolerance ?? TimeSpan.FromMinutes(5);
        _time = time ?? TimeProvider.System;
    }

    public TimeSpan Tolerance { get; }

    /// <summary>Throws <see cref="WebhookVerificationException"/> unless the delivery is signed with this secret and recent.</summary>
    public void Verify(string? webhookId, string? webhookTimestamp, string? webhookSignature, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(webhookId) || string.IsNullOrEmpty(webhookTimestamp) || string.IsNullOrEmpty(webhookSignature))
        {
            throw new WebhookVerificationException("Missing webhook-id, webhook-timestamp or webhook-signature header.");
        }

        if (!long.TryParse(webhookTimestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            throw new WebhookVerificationException("webhook-timestamp is not a Unix time in seconds.");
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (Math.Abs(now - seconds) > (long)Tolerance.TotalSeconds)
        {
            throw new WebhookVerificationException("webhook-timestamp is outside the tolerance: too old or in the future.");
        }

        var prefix = Encoding.UTF8.GetBytes($"{webhookId}.{webhookTimestamp}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        var expected = HMACSHA256.HashData(_key, content);

        var matched = false;
        foreach (var candidate in webhookSignature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!candidate.StartsWith("v1,", StringComparison.Ordinal))
            {
                continue;
            }

            var given = new byte[32];
            if (Convert.TryFromBase64String(candidate[3..], given, out var written) && written == expected.Length)
            {
                // Check every candidate (no early exit) so timing says nothing about which one matched.
                matched |= CryptographicOperations.FixedTimeEquals(given, expected);
            }
        }

        if (!matched)
        {
            throw new WebhookVerificationException("No webhook-signature matches this secret and body.");
        }
    }

    /// <summary>The same check over a request's headers: <c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>.</summary>
    public bool IsValid(Func<string, string?> header, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(header);
        try
        {
            Verify(header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"), body);
            return true;
        }
        catch (WebhookVerificationException)
        {
            return false;
        }
    }
}
