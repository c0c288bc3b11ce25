using System.Globalization;
using System.Text;
using LiveGrains.Grains.Webhooks;
using LiveGrains.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Tests.Client;

/// <summary>The README's client section is <see cref="ReadmeExample"/>'s code, which compiles and runs here.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ReadmeExampleTests(GatewayFactory factory)
{
    [Fact]
    public void TheReadmeShowsTheExampleThatIsCompiledHere()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md")).ReplaceLineEndings("\n");
        var source = File.ReadAllLines(Path.Combine(RepoPaths.Root, "tests", "LiveGrains.Gateway.Tests", "Client", "ReadmeExample.cs"));
        var blocks = new List<string>();
        for (var i = 0; i < source.Length; i++)
        {
            if (source[i].Trim().StartsWith("// README:begin", StringComparison.Ordinal))
            {
                var indent = source[i].Length - source[i].TrimStart().Length;
                var lines = source.Skip(i + 1).TakeWhile(l => l.Trim() != "// README:end").Select(l => l.Length >= indent ? l[indent..] : l.Trim());
                blocks.Add(string.Join('\n', lines));
            }
        }

        Assert.Equal(2, blocks.Count);
        Assert.All(blocks, block => Assert.True(readme.Contains("```csharp\n" + block + "\n```", StringComparison.Ordinal), "README.md lacks this block, as a csharp code block:\n" + block));
    }

    [Fact]
    public async Task TheReadmeExampleRunsAgainstTheGatewayUntilTheLiveEnds()
    {
        // The example's event stream paces its stats on the clock; the end's status event queues behind them.
        await using var running = new RunningClock(factory.Time);
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var roomId = Http.Unique("readme");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var example = ReadmeExample.RunAsync(kit.Client, roomId, cancel.Token);

        // Once its viewer has joined, the host ends the live: the example's event loop sees it and returns.
        var liveId = await Eventually.ValueAsync(
            async () => (await kit.Client.GetRoomAsync(roomId)).ActiveLiveId,
            id => id is not null,
            TimeSpan.FromSeconds(30),
            "the example went live");
        await Eventually.TrueAsync(async () => (await kit.Client.GetStatsAsync(liveId!)).ViewerCount == 1, TimeSpan.FromSeconds(30), "the example's viewer joined");
        await kit.Client.EndAsync(liveId!, by: "host");

        var live = await example.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(liveId, live.LiveId);
        Assert.Equal(("ended", "host"), ((await kit.Client.GetLiveAsync(liveId!)).Status, (await kit.Client.GetLiveAsync(liveId!)).EndedBy));
    }

    [Fact]
    public async Task TheReadmeReceiverAcceptsAGatewaySignedWebhookAndRefusesATamperedOne()
    {
        var secret = WebhookSigner.NewSecret();
        var body = Encoding.UTF8.GetBytes("""{"type":"live.started","timestamp":"2026-01-01T00:00:00.000Z","data":{"live_id":"lv_1.r","sequence":1}}""");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign(secret, "evt_readme", timestamp, body);

        HttpRequest Request(byte[] content)
        {
            var context = new DefaultHttpContext();
            context.Request.Body = new MemoryStream(content);
            context.Request.Headers["webhook-id"] = "evt_readme";
            context.Request.Headers["webhook-timestamp"] = timestamp.ToString(CultureInfo.InvariantCulture);
            context.Request.Headers["webhook-signature"] = signature;
            return context.Request;
        }

        Assert.IsType<NoContent>(await ReadmeExample.ReceiveAsync(Request(body), secret));
        var tampered = (byte[])body.Clone();
        tampered[10] ^= 1;
        Assert.IsType<UnauthorizedHttpResult>(await ReadmeExample.ReceiveAsync(Request(tampered), secret));
        Assert.IsType<UnauthorizedHttpResult>(await ReadmeExample.ReceiveAsync(Request(body), WebhookSigner.NewSecret()));
    }
}
