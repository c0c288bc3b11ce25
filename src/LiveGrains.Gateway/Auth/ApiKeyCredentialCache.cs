using System.Collections.Concurrent;
using LiveGrains.Abstractions;

namespace LiveGrains.Gateway.Auth;

/// <summary>
/// Managed keys' credentials as this gateway last read them from their grains, for at most
/// <c>Auth:KeyCacheSeconds</c> (default 2): a revoked key is refused by every gateway within that time, and a
/// busy key costs one grain call per gateway per period rather than one per request. Unknown ids are cached too
/// (as null), so a flood of guessed ids costs no more than a flood of one.
/// </summary>
public sealed class ApiKeyCredentialCache(IGrainFactory grains, IConfiguration configuration, TimeProvider time)
{
    /// <summary>Bounds the memory a flood of distinct forged ids can take; the cache starts over past it.</summary>
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly TimeSpan _ttl = TimeSpan.FromSeconds(Math.Clamp(configuration.GetValue("Auth:KeyCacheSeconds", 2.0), 0, 4));

    public async Task<ApiKeyCredential?> GetAsync(string keyId)
    {
        var now = time.GetTimestamp();
        if (_entries.TryGetValue(keyId, out var cached) && time.GetElapsedTime(cached.ReadAt, now) < _ttl)
        {
            return await cached.Credential;
        }

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        // A failed read is not cached: the next request asks the grain again.
        var read = grains.Get<IApiKeyGrain>(keyId).GetAsync();
        _entries[keyId] = new Entry(read, now);
        try
        {
            return await read;
        }
        catch
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(keyId, new Entry(read, now)));
            throw;
        }
    }

    private sealed record Entry(Task<ApiKeyCredential?> Credential, long ReadAt);
}
