namespace LiveGrains.Grains.Stats;

/// <summary>
/// Runs the silo's activity flush pump while the silo is active. On a graceful stop it hands every buffered (already
/// acknowledged) activity of this silo to the lives' stats grains while every grain is still active. Orleans
/// deactivates all grains together later in the shutdown, and then a worker's own last flush can find its stats grain
/// already gone from a silo that may not host it again.
/// </summary>
public sealed class LiveActivityShutdownFlush(LiveActivityBuffers buffers) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LiveActivityShutdownFlush), ServiceLifecycleStage.Active, buffers.StartAsync, buffers.FlushAllAsync);
}
