namespace LiveGrains.Abstractions;

/// <summary>
/// One ingest endpoint bound to a room, keyed by its server-generated stream id (like <see cref="ILiveGrain"/>,
/// the owning tenant is kept in state and checked on every API call). It owns the stream key (hashed), the
/// connection status that media-server callbacks drive, the reconnect window and the recording sessions;
/// anything that changes which live is on air it asks the room for (docs/ingest.md).
/// </summary>
[Alias("LiveGrains.IStreamGrain")]
public partial interface IStreamGrain : IGrainWithStringKey
{
    /// <summary>Creates the stream for a room of <paramref name="tenant"/>; the answer is the only time the new key is shown.</summary>
    [Alias("Create")]
    Task<Result<StreamWithKey>> CreateAsync(string tenant, CreateStreamCommand command);

    [Alias("Get")]
    Task<Result<StreamDto>> GetAsync(string tenant);

    /// <summary>Enables or disables the stream; disabling a connected stream ends its live and drops the publisher.</summary>
    [Alias("SetEnabled")]
    Task<Result<StreamDto>> SetEnabledAsync(string tenant, bool enabled);

    /// <summary>Replaces the key: the old one is refused at once (and its running publish is dropped at the next update).</summary>
    [Alias("RotateKey")]
    Task<Result<StreamWithKey>> RotateKeyAsync(string tenant);

    /// <summary>Changes name, window, recording mode, bound live or enabled (PATCH); a bound live must be a non-ended live of the room.</summary>
    [Alias("Patch")]
    Task<Result<StreamDto>> PatchAsync(string tenant, UpdateStreamCommand command);

    /// <summary>Deletes the stream: its key is refused from now on, its publisher is dropped and its live ends unless another stream feeds it.</summary>
    [Alias("Delete")]
    Task<Result<bool>> DeleteAsync(string tenant);

    /// <summary>
    /// Room-only (its pump, after the decision is stored): the live this stream feeds was superseded or ended. The
    /// stream goes idle and its publisher is dropped at the media server. Idempotent; ignored for any other live.
    /// </summary>
    [Alias("LiveClosed")]
    Task LiveClosedAsync(string liveId);

    /// <summary>Stream-only (its drop pump): the first <paramref name="count"/> pending drops are confirmed by their media server.</summary>
    [Alias("DropsDone")]
    Task DropsDoneAsync(int count);

    /// <summary>
    /// The media server finished a recording file of this stream (nginx-rtmp on_record_done): creates a pending video
    /// of the live the stream fed, which then probes the file. Answers the video.
    /// </summary>
    [Alias("RecordDone")]
    Task<Result<VideoDto>> RecordDoneAsync(IngestCallback callback, string file);

    [Alias("StartRecording")]
    Task<Result<StreamDto>> StartRecordingAsync(string tenant);

    [Alias("StopRecording")]
    Task<Result<StreamDto>> StopRecordingAsync(string tenant);

    /// <summary>A media server asks whether a publisher may start (nginx-rtmp on_publish, SRS on_publish, MediaMTX publish auth).</summary>
    [Alias("Publish")]
    Task<IngestDecision> PublishAsync(IngestCallback callback);

    /// <summary>A media server re-checks a running publish (nginx-rtmp on_update); a refusal drops the publisher.</summary>
    [Alias("Update")]
    Task<IngestDecision> UpdateAsync(IngestCallback callback);

    /// <summary>A publish ended (nginx-rtmp on_publish_done, SRS on_unpublish): pauses the live and opens the reconnect window.</summary>
    [Alias("Unpublish")]
    Task<IngestDecision> UnpublishAsync(IngestCallback callback);
}
