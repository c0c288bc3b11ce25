using Microsoft.Extensions.Logging;

namespace LiveGrains.ServiceDefaults.Failover;

/// <summary>
/// Replaces Orleans' fatal-error handler, which sleeps 2 s "to let loggers flush" before it stops the process: a silo
/// that learns it was declared dead keeps serving its grains during that sleep while the cluster re-activates them
/// elsewhere. This one writes the reason to stderr and stops the process at once.
/// </summary>
public sealed partial class FailFastFatalErrorHandler(ILogger<FailFastFatalErrorHandler> logger) : IFatalErrorHandler
{
    public bool IsUnexpected(Exception exception) => exception is not ThreadAbortException;

    public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null)
    {
        var message = $"LiveGrains: fatal error from {sender?.GetType().Name ?? "unknown"}, stopping now. Context: {context ?? "none"}. {exception}";
        LogFatal(logger, exception, sender?.GetType().Name, context);

        // Console.Error is synchronous: the reason reaches the process output even though logging is asynchronous.
        Console.Error.WriteLine(message);
        Environment.FailFast(message, exception);
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fatal error from {Sender}, stopping the process now. Context: {Context}")]
    private static partial void LogFatal(ILogger logger, Exception? exception, string? sender, string? context);
}
