using System.Collections.Concurrent;
using System.Collections.Specialized;
using System.Net;
using System.Web;

namespace LiveGrains.Testing.Tests;

/// <summary>One nginx-rtmp notify call as the listener received it.</summary>
public sealed record RtmpCallback(string Path, NameValueCollection Query, NameValueCollection Form)
{
    public string? Call => Form["call"];

    public string? Name => Form["name"];
}

/// <summary>
/// A stand-in for the gateway's ingest hook: an HttpListener on a free port that records every nginx-rtmp callback
/// and answers with the status <see cref="Decide"/> picks.
/// </summary>
public sealed class RtmpCallbackListener : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<RtmpCallback> _calls = new();
    private readonly Task _loop;

    public RtmpCallbackListener(Func<RtmpCallback, int> decide)
    {
        Decide = decide;
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public Func<RtmpCallback, int> Decide { get; set; }

    public IReadOnlyList<RtmpCallback> Calls => [.. _calls];

    public string Url(string pathAndQuery) => $"http://127.0.0.1:{Port}{pathAndQuery}";

    public bool Saw(string call, string name) => _calls.Any(c => c.Call == call && c.Name == name);

    public string Describe() =>
        "Callbacks so far: " + string.Join("; ", _calls.Select(c => $"{c.Path}?{c.Query} [{c.Form}]"));

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }

        _listener.Close();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, context.Request.ContentEncoding);
            var body = await reader.ReadToEndAsync();
            var callback = new RtmpCallback(
                context.Request.Url?.AbsolutePath ?? string.Empty,
                HttpUtility.ParseQueryString(context.Request.Url?.Query ?? string.Empty),
                HttpUtility.ParseQueryString(body));
            _calls.Enqueue(callback);
            context.Response.StatusCode = Decide(callback);
            context.Response.Close();
        }
    }
}
