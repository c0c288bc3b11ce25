using System.Globalization;

namespace LiveGrains.Testing;

/// <summary>Settings of an <see cref="FfmpegPublisher"/>.</summary>
public sealed record FfmpegPublisherOptions
{
    public int Width { get; init; } = 320;

    public int Height { get; init; } = 240;

    public int FrameRate { get; init; } = 15;

    /// <summary>H.264 through libx264, which Debian's ffmpeg ships.</summary>
    public string VideoEncoder { get; init; } = "libx264";

    /// <summary>ffmpeg's native AAC encoder.</summary>
    public string AudioEncoder { get; init; } = "aac";

    /// <summary>Stop publishing after this long; null publishes until stopped.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>The ffmpeg binary; a bare name is looked up on PATH.</summary>
    public string ExecutablePath { get; init; } = "ffmpeg";
}

/// <summary>
/// A real ffmpeg pushing a generated test pattern and tone to an RTMP URL in real time (<c>-re</c>), like a host's
/// encoder would.
/// </summary>
public sealed class FfmpegPublisher : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private FfmpegPublisher(string url, ChildProcess process)
    {
        Url = url;
        _process = process;
    }

    /// <summary>The RTMP URL it publishes to.</summary>
    public string Url { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once ffmpeg has exited, otherwise null.</summary>
    public int? ExitCode => _process.ExitCode;

    /// <summary>ffmpeg's last stderr lines.</summary>
    public OutputBuffer Output => _process.Output;

    /// <summary>ffmpeg's last stderr lines as one string.</summary>
    public string StandardError => _process.Output.ToString();

    /// <summary>Starts ffmpeg publishing to <paramref name="rtmpUrl"/> (e.g. from <see cref="NginxRtmpServer.PublishUrl"/>).</summary>
    public static FfmpegPublisher Start(string rtmpUrl, FfmpegPublisherOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rtmpUrl);
        options ??= new FfmpegPublisherOptions();
        var ffmpeg = ExternalTool.Require(options.ExecutablePath, "ffmpeg");
        var invariant = CultureInfo.InvariantCulture;
        List<string> arguments =
        [
            "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
            "-re", "-f", "lavfi", "-i", $"testsrc=size={options.Width.ToString(invariant)}x{options.Height.ToString(invariant)}:rate={options.FrameRate.ToString(invariant)}",
            "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
        ];
        if (options.Duration is { } duration)
        {
            arguments.AddRange(["-t", duration.TotalSeconds.ToString("0.###", invariant)]);
        }

        arguments.AddRange(
        [
            "-c:v", options.VideoEncoder, "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
            "-g", (options.FrameRate * 2).ToString(invariant),
            "-c:a", options.AudioEncoder, "-b:a", "64k",
            "-f", "flv", rtmpUrl,
        ]);
        var process = ChildProcess.Start(ffmpeg, arguments, null, null, new OutputBuffer(500), "ffmpeg");
        return new FfmpegPublisher(rtmpUrl, process);
    }

    /// <summary>Waits for ffmpeg to exit; true if it did within <paramref name="timeout"/>.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    /// <summary>SIGKILL: the connection drops without an RTMP unpublish, like a crashed encoder or a cut network.</summary>
    public void Kill() => _process.Kill();

    /// <summary>
    /// SIGINT, as Ctrl+C would: ffmpeg finishes the stream and closes the connection cleanly. Killed after
    /// <paramref name="timeout"/> (default 10 s).
    /// </summary>
    public Task<bool> StopAsync(TimeSpan? timeout = null) =>
        _process.StopAsync(timeout ?? TimeSpan.FromSeconds(10), PosixSignals.SigInt);

    /// <summary>State and stderr tail, for assertion messages.</summary>
    public string Describe(int maxLines = 60) => _process.Describe(maxLines);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
