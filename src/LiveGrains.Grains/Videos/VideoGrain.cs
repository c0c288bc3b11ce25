using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Videos;

/// <summary>Configuration section <c>Videos</c>.</summary>
public sealed class VideoOptions
{
    /// <summary>The ffprobe binary (a bare name is looked up on PATH).</summary>
    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>How long one probe may run before it counts as failed.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

[GenerateSerializer, Alias("LiveGrains.VideoState")]
public sealed class VideoState
{
    [Id(0)]
    public string Tenant { get; set; } = string.Empty;

    [Id(1)]
    public VideoDto? Video { get; set; }

    [Id(2)]
    public bool Deleted { get; set; }

    [Id(3)]
    public EventOutbox Outbox { get; set; } = new();

    /// <summary>
    /// The media server's file name until the probe pump renamed it to the video's own: nginx-rtmp names recordings
    /// after the stream name, which is the stream key, so that name never reaches the API and leaves the state once done.
    /// </summary>
    [Id(4)]
    public string? SourceFile { get; set; }
}

/// <summary>
/// A recorded video. Created pending by its stream (media server record-done callback); probes its own file with
/// ffprobe in a background pump (a child process, never inside a grain turn), then records the result through a call
/// to itself, so the write happens in a turn of its own. A durable reminder restarts a probe that a dead silo left.
/// </summary>
public sealed class VideoGrain(
    [PersistentState("video", LiveGrainsStorage.State)] IPersistentState<VideoState> state,
    IResourceEventSink events,
    LiveGrainsClock clock,
    IOptions<VideoOptions> options,
    ILogger<VideoGrain> logger) : Grain, IVideoGrain, IRemindable
{
    public const string ProbeReminderName = "probe-video";

    private OutboxRelay? _relay;
    private BatchWorkerFromDelegate? _prober;

    private OutboxRelay Relay => _relay ??= new OutboxRelay(this, () => S.Outbox, events, clock, logger);

    private BatchWorkerFromDelegate Prober => _prober ??= new BatchWorkerFromDelegate(ProbeAsync);

    private VideoState S => state.State;

    private string VideoId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Relay.Kick();
        if (S.Video is { Status: VideoStatus.Pending } && !S.Deleted)
        {
            Prober.Notify();
        }

        return Task.CompletedTask;
    }

    public async Task<VideoDto> CreateAsync(CreateVideoCommand command)
    {
        if (S.Video is { } existing)
        {
            return existing;
        }

        var now = clock.UtcNow;

        // Indexed before stored (a listing skips an entry whose video is missing), reminder before the write that needs it.
        await GrainFactory.ResourceShard(command.Tenant, IndexShards.Videos, command.RoomId)
            .UpsertAsync(new ResourceIndexEntry(VideoId, command.LiveId ?? string.Empty, now));
        await this.RegisterOrUpdateReminder(ProbeReminderName, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        S.Tenant = command.Tenant;
        S.SourceFile = command.File;
        var file = Path.Combine(VideoDirectory(command.File, command.StreamId), VideoId + Path.GetExtension(command.File));
        S.Video = new VideoDto(
            VideoId, command.StreamId, command.LiveId, command.RoomId, VideoStatus.Pending, file, null, null, command.RecordingStartedAt, now, null);
        Record(EventTypes.VideoCreated, now);
        await CommitAsync();
        Prober.Notify();
        return S.Video;
    }

    public Task<Result<VideoDto>> GetAsync(string tenant) =>
        Task.FromResult(BelongsTo(tenant) ? Result<VideoDto>.Ok(S.Video!) : Result<VideoDto>.Fail(DomainError.NotFound("Video")));

    public async Task<Result<bool>> DeleteAsync(string tenant)
    {
        if (!BelongsTo(tenant))
        {
            return Result<bool>.Fail(DomainError.NotFound("Video"));
        }

        var video = S.Video!;
        S.Deleted = true;
        await CommitAsync();
        await ForgetReminderAsync();
        try
        {
            File.Delete(video.File);
            await GrainFactory.ResourceShard(S.Tenant, IndexShards.Videos, video.RoomId).RemoveAsync(VideoId);
        }
        catch (Exception ex)
        {
            // The video is gone for the API either way; a file left behind is logged for the operator.
            logger.LogWarning(ex, "Video {VideoId}: removing its file or index entry failed", VideoId);
        }

        return true;
    }

    public async Task ProbedAsync(VideoProbe probe)
    {
        if (S.Video is not { Status: VideoStatus.Pending } video || S.Deleted)
        {
            return;
        }

        var now = clock.UtcNow;
        var ready = probe.Error is null;
        S.SourceFile = null;
        S.Video = video with
        {
            Status = ready ? VideoStatus.Ready : VideoStatus.Failed,
            DurationSeconds = probe.DurationSeconds,
            SizeBytes = probe.SizeBytes,
            ReadyAt = ready ? now : null,
            Error = probe.Error,
        };
        Record(ready ? EventTypes.VideoReady : EventTypes.VideoFailed, now);
        await CommitAsync();
        await ForgetReminderAsync();
        logger.LogInformation("Video {VideoId}: {Status} ({Duration} s, {Size} bytes)", VideoId, S.Video.Status, probe.DurationSeconds, probe.SizeBytes);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == OutboxRelay.ReminderName)
        {
            return Relay.ReceiveReminderAsync();
        }

        if (reminderName == ProbeReminderName && S.Video is { Status: VideoStatus.Pending } && !S.Deleted)
        {
            Prober.Notify();
            return Task.CompletedTask;
        }

        return reminderName == ProbeReminderName ? ForgetReminderAsync() : Task.CompletedTask;
    }

    /// <summary>The probe pump: ffprobe as a child process, outside any request turn; the answer comes back as a call.</summary>
    private async Task ProbeAsync()
    {
        if (S.Video is not { Status: VideoStatus.Pending } video || S.Deleted)
        {
            return;
        }

        if (S.SourceFile is { } source && source != video.File && File.Exists(source) && !File.Exists(video.File))
        {
            try
            {
                File.Move(source, video.File);
            }
            catch (IOException ex)
            {
                // Probed under its own name below: a missing file makes the video failed.
                logger.LogWarning(ex, "Video {VideoId}: renaming the recording failed", VideoId);
            }
        }

        var probe = await VideoProber.ProbeAsync(options.Value.FfprobePath, video.File, options.Value.ProbeTimeout);
        await this.AsReference<IVideoGrain>().ProbedAsync(probe);
    }

    /// <summary>
    /// Where the renamed file goes: next to the recording, but out of any directory named after the stream key (MediaMTX
    /// files each path under <c>%path</c> = <c>live/&lt;stream key&gt;</c>), so the key never reaches the API's <c>file</c>.
    /// </summary>
    internal static string VideoDirectory(string file, string streamId)
    {
        var directory = Path.GetDirectoryName(file) ?? string.Empty;
        while (Path.GetFileName(directory).StartsWith(streamId + ".", StringComparison.Ordinal) && Path.GetDirectoryName(directory) is { } parent)
        {
            directory = parent;
        }

        return directory;
    }

    private async Task ForgetReminderAsync()
    {
        if (await this.GetReminder(ProbeReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private bool BelongsTo(string tenant) => S.Video is not null && !S.Deleted && string.Equals(S.Tenant, tenant, StringComparison.Ordinal);

    private void Record(string type, DateTimeOffset now) => S.Outbox.Record(type, S.Tenant, "video", VideoId, now, S.Video!);

    private async Task CommitAsync()
    {
        await state.WriteOrReloadAsync(this, logger);
        await Relay.HandOffAsync();
    }
}

/// <summary>Runs ffprobe on a recording: its container duration and the file size, or why it is not a video.</summary>
public static class VideoProber
{
    public static async Task<VideoProbe> ProbeAsync(string ffprobe, string file, TimeSpan timeout)
    {
        if (!File.Exists(file))
        {
            return new VideoProbe(null, null, "The recording file does not exist.");
        }

        var size = new FileInfo(file).Length;
        var start = new ProcessStartInfo(ffprobe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-v", "error", "-show_entries", "format=duration", "-of", "json", file })
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException("ffprobe did not start.");
            using var cancel = new CancellationTokenSource(timeout);
            var output = process.StandardOutput.ReadToEndAsync(cancel.Token);
            var errors = process.StandardError.ReadToEndAsync(cancel.Token);
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return new VideoProbe(null, size, "ffprobe timed out.");
            }

            var json = await output;
            if (process.ExitCode != 0)
            {
                var message = (await errors).Trim();
                return new VideoProbe(null, size, "ffprobe: " + (message.Length > 300 ? message[..300] : message));
            }

            using var document = JsonDocument.Parse(json);
            if (document.RootElement.TryGetProperty("format", out var format) && format.TryGetProperty("duration", out var duration)
                && double.TryParse(duration.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
            {
                return new VideoProbe(Math.Round(seconds, 3), size, null);
            }

            return new VideoProbe(null, size, "ffprobe found no duration: not a playable recording.");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or JsonException)
        {
            return new VideoProbe(null, size, "ffprobe could not run: " + ex.Message);
        }
    }
}
