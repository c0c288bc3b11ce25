using Orleans.Serialization;
using Orleans.Storage;

namespace LiveGrains.ServiceDefaults.Storage;

/// <summary>
/// Orleans' binary grain-state serializer with one allocation per write. Orleans' own
/// <see cref="OrleansGrainStorageSerializer.Serialize{T}"/> writes into an <c>ArrayBufferWriter</c> that starts at
/// 256 bytes and doubles, so a 10 KB state leaves ~30 KB of discarded arrays behind and a sealed feed page (~100 KB)
/// several large-object-heap arrays: a quarter of every byte the gateway allocated per go-live (docs/benchmarks.md,
/// run S). This one writes into Orleans' pooled buffer and copies the result once into an array of the exact size. The
/// format is the same (the same codecs write it), so stored states read either way. Streaming (Azure Blob) and
/// reads are Orleans' own.
/// </summary>
public sealed class PooledGrainStorageSerializer(Serializer serializer) : IGrainStorageStreamingSerializer
{
    private readonly OrleansGrainStorageSerializer _orleans = new(serializer);

    public BinaryData Serialize<T>(T? value) => new(serializer.SerializeToArray(value));

    public T? Deserialize<T>(BinaryData input) => _orleans.Deserialize<T>(input);

    public ValueTask SerializeAsync<T>(T? value, Stream destination, CancellationToken cancellationToken = default) =>
        _orleans.SerializeAsync(value, destination, cancellationToken);

    public ValueTask<T?> DeserializeAsync<T>(Stream input, CancellationToken cancellationToken = default) =>
        _orleans.DeserializeAsync<T>(input, cancellationToken);
}
