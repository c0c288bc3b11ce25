using System.Collections.Concurrent;
using LiveGrains.Abstractions;
using LiveGrains.Grains.Streams;

namespace LiveGrains.Grains.Tests.Ingest;

/// <summary>
/// The media servers as the grain tests see them: every drop the silos asked for, in order. A client id listed in
/// <see cref="FailuresLeft"/> fails that many times first (a media server that is briefly unreachable).
/// The HTTP calls themselves are tested against real loopback servers (Gateway.Tests, MediaServerControlTests).
/// </summary>
public sealed class RecordingMediaServerControl : IMediaServerControl
{
    public static readonly RecordingMediaServerControl Instance = new();

    public ConcurrentQueue<PublisherRef> Dropped { get; } = new();

    public ConcurrentDictionary<string, int> FailuresLeft { get; } = new();

    public ConcurrentDictionary<string, int> Attempts { get; } = new();

    public Task DropAsync(PublisherRef publisher, CancellationToken cancellationToken)
    {
        Attempts.AddOrUpdate(publisher.ClientId, 1, (_, n) => n + 1);
        if (FailuresLeft.TryGetValue(publisher.ClientId, out var left) && left > 0)
        {
            FailuresLeft[publisher.ClientId] = left - 1;
            throw new HttpRequestException("media server unreachable (test)");
        }

        Dropped.Enqueue(publisher);
        return Task.CompletedTask;
    }

    public bool WasDropped(string clientId) => Dropped.Any(d => d.ClientId == clientId);
}
