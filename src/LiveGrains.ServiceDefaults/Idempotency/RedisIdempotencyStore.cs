using LiveGrains.Abstractions;
using StackExchange.Redis;

namespace LiveGrains.ServiceDefaults.Idempotency;

/// <summary>
/// Idempotency records as Redis hashes (<c>{serviceId}/idempotency/{tenant}/{keyHash}</c>), each operation one Lua
/// script, so a claim is atomic across gateways; the key expires 24 h after its first use. Redis runs with
/// <c>appendfsync always</c> (docs/consistency.md): a claim or an answer Redis acknowledged survives a Redis kill.
/// </summary>
public sealed class RedisIdempotencyStore(ILazyRedisConnection connection, string serviceId, TimeProvider time) : IIdempotencyStore
{
    // Fields: fp (fingerprint), first (ms), lease (ms, until), then once answered: status, ctype, loc, body.
    // Replies: {0} proceed, {1, status, ctype, loc, body} replay, {2} in progress, {3} mismatch.
    private const string BeginScript = """
        local r = redis.call('HMGET', KEYS[1], 'fp', 'first', 'lease', 'status', 'ctype', 'loc', 'body')
        local now = tonumber(ARGV[2])
        if r[1] and tonumber(r[2]) + tonumber(ARGV[4]) <= now then
          redis.call('DEL', KEYS[1])
          r[1] = false
        end
        if r[1] then
          if r[1] ~= ARGV[1] then return {3} end
          if r[4] then return {1, r[4], r[5] or '', r[6] or '', r[7] or ''} end
          if now < tonumber(r[3]) then return {2} end
          redis.call('HSET', KEYS[1], 'lease', ARGV[3])
          return {0}
        end
        redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'first', ARGV[2], 'lease', ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return {0}
        """;

    private const string CompleteScript = """
        if redis.call('HGET', KEYS[1], 'fp') ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'status', ARGV[2], 'ctype', ARGV[3], 'loc', ARGV[4], 'body', ARGV[5])
        return 1
        """;

    private const string AbandonScript = """
        if redis.call('HGET', KEYS[1], 'fp') == ARGV[1] and redis.call('HEXISTS', KEYS[1], 'status') == 0 then
          redis.call('DEL', KEYS[1])
          return 1
        end
        return 0
        """;

    public async Task<IdempotencyDecision> BeginAsync(string tenant, string keyHash, string requestFingerprint)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var db = await connection.DatabaseAsync();
        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(BeginScript, [Key(tenant, keyHash)],
        [
            requestFingerprint, now, now + (long)IdempotencyRecords.Lease.TotalMilliseconds, (long)IdempotencyRecords.Retention.TotalMilliseconds,
        ]))!;
        var outcome = (IdempotencyOutcome)(int)reply[0];
        if (outcome != IdempotencyOutcome.Replay)
        {
            return new IdempotencyDecision(outcome, null);
        }

        return new IdempotencyDecision(outcome, new StoredResponse(
            (int)reply[1],
            EmptyAsNull((string?)reply[2]),
            EmptyAsNull((string?)reply[3]),
            (byte[]?)reply[4] ?? []));
    }

    public async Task CompleteAsync(string tenant, string keyHash, string requestFingerprint, StoredResponse response)
    {
        var db = await connection.DatabaseAsync();
        await db.ScriptEvaluateAsync(CompleteScript, [Key(tenant, keyHash)],
            [requestFingerprint, response.StatusCode, response.ContentType ?? "", response.Location ?? "", response.Body]);
    }

    public async Task AbandonAsync(string tenant, string keyHash, string requestFingerprint)
    {
        var db = await connection.DatabaseAsync();
        await db.ScriptEvaluateAsync(AbandonScript, [Key(tenant, keyHash)], [requestFingerprint]);
    }

    private RedisKey Key(string tenant, string keyHash) => $"{serviceId}/idempotency/{tenant}/{keyHash}";

    private static string? EmptyAsNull(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
