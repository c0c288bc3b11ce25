using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains;

/// <summary>
/// The one write policy of every grain (samples/ShoppingCart <c>ProductGrain.UpdateStateAsync</c>): a grain mutates
/// its state in memory, validated, then writes it once. When the write fails (storage down, or an ETag conflict with
/// a newer activation), memory holds a change storage never took: reload what storage holds, let the activation go,
/// and let the caller see the failure. <see cref="Orleans.Storage.InconsistentStateException"/> deactivates anyway.
/// </summary>
public static partial class StateWrites
{
    public static async Task WriteOrReloadAsync<T>(this IPersistentState<T> state, IGrainBase grain, ILogger logger)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception writeError)
        {
            LogWriteFailed(logger, writeError, grain.GrainContext.GrainId);
            grain.DeactivateOnIdle();
            try
            {
                await state.ReadStateAsync();
            }
            catch (Exception readError)
            {
                LogReloadFailed(logger, readError, grain.GrainContext.GrainId);
            }

            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{GrainId}: state write failed; reloading it and deactivating")]
    private static partial void LogWriteFailed(ILogger logger, Exception error, GrainId grainId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{GrainId}: reloading state after a failed write failed too")]
    private static partial void LogReloadFailed(ILogger logger, Exception error, GrainId grainId);
}
