using System.Text.Json;
using LiveGrains.Gateway.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace LiveGrains.Gateway.Tests;

public sealed class ApiExceptionHandlerTests
{
    [Fact]
    public async Task ACallTheClusterCancelledIsA503TheClientMayRetryNotA500()
    {
        var (context, body) = NewContext();

        // What the gateway saw in kill runs: the directory cancelled a lookup while a silo died.
        var handled = await new ApiExceptionHandler(NullLogger<ApiExceptionHandler>.Instance)
            .TryHandleAsync(context, new OperationCanceledException(), CancellationToken.None);

        Assert.True(handled);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        body.Position = 0;
        Assert.Equal("unavailable", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
    }

    public static TheoryData<Exception> StoreFailures() => new()
    {
        // Seen in a chaos run while Redis was killed: a grain's direct storage read, not wrapped in an OrleansException.
        new Orleans.Persistence.Redis.RedisStorageException("Failed to read grain state", new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.SocketFailure, "down")),
        // The gateway's own idempotency records, read from the store directly.
        new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.SocketFailure, "down"),
        new Azure.RequestFailedException(503, "Server busy"),
    };

    [Theory]
    [MemberData(nameof(StoreFailures))]
    public async Task AStoreThatCannotAnswerIsA503TheClientMayRetryNotA500(Exception failure)
    {
        var (context, body) = NewContext();

        var handled = await new ApiExceptionHandler(NullLogger<ApiExceptionHandler>.Instance).TryHandleAsync(context, failure, CancellationToken.None);

        Assert.True(handled);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        body.Position = 0;
        Assert.Equal("unavailable", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task ARequestTheClientAbortedGetsNoAnswer()
    {
        var (context, body) = NewContext();
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();
        context.RequestAborted = aborted.Token;

        var handled = await new ApiExceptionHandler(NullLogger<ApiExceptionHandler>.Instance)
            .TryHandleAsync(context, new OperationCanceledException(aborted.Token), CancellationToken.None);

        Assert.True(handled);
        Assert.Equal(0, body.Length);
    }

    private static (DefaultHttpContext Context, MemoryStream Body) NewContext()
    {
        var body = new MemoryStream();
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider(),
        };
        context.Response.Body = body;
        return (context, body);
    }
}
