using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Apis;

/// <summary>Configuration section <c>Ingest</c> (api.md, Configuration).</summary>
public sealed class IngestOptions
{
    public const string SecretHeader = "X-LiveGrains-Hook-Secret";

    /// <summary>The media servers' shared secret; unset refuses every callback.</summary>
    public string? CallbackSecret { get; set; }

    /// <summary>The RTMP server URL handed to hosts; their encoder appends the stream key as the stream name.</summary>
    public string RtmpBaseUrl { get; set; } = "rtmp://localhost:1935/live";

    /// <summary>MediaMTX's WebRTC listener plus the path prefix: the WHIP endpoint is <c>{base}/{stream_id}/whip</c>.</summary>
    public string WhipBaseUrl { get; set; } = "http://localhost:8889/live";

    /// <summary>MediaMTX's SRT listener.</summary>
    public string SrtBaseUrl { get; set; } = "srt://localhost:8890";
}

public static class IngestExtensions
{
    public static WebApplicationBuilder AddLiveGrainsIngest(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>().Bind(builder.Configuration.GetSection("Ingest"));
        builder.Services.AddSingleton<IngestHookSecret>();
        return builder;
    }
}

/// <summary>Checks a callback's shared secret in constant time (digests of equal length, whatever was sent).</summary>
public sealed class IngestHookSecret(IOptions<IngestOptions> options)
{
    private readonly byte[]? _digest = string.IsNullOrEmpty(options.Value.CallbackSecret)
        ? null
        : SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.CallbackSecret));

    public bool IsConfigured => _digest is not null;

    public bool Verify(HttpRequest request)
    {
        if (_digest is null)
        {
            return false;
        }

        var presented = request.Headers[IngestOptions.SecretHeader].ToString();
        if (presented.Length == 0)
        {
            presented = request.Query["secret"].ToString();
        }

        return presented.Length is > 0 and <= 1024
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _digest);
    }
}
