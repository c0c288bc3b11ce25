using Microsoft.AspNetCore.Http.Features;

namespace LiveGrains.Gateway.Hosting;

/// <summary>
/// Refuses bodies over <c>Gateway:MaxRequestBodyBytes</c> with 413 before anything reads them. Kestrel enforces
/// the same limit on streamed bodies without a Content-Length.
/// </summary>
public sealed class RequestSizeLimitMiddleware(RequestDelegate next, IConfiguration configuration)
{
    public const long DefaultMaxBytes = 4 * 1024 * 1024;
    private readonly long _maxBytes = configuration.GetValue("Gateway:MaxRequestBodyBytes", DefaultMaxBytes);

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > _maxBytes)
        {
            await Problems.Write(context, StatusCodes.Status413PayloadTooLarge, "payload_too_large", $"The request body is larger than {_maxBytes} bytes.");
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = _maxBytes;
        }

        await next(context);
    }
}
