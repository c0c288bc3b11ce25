using System.Globalization;
using LiveGrains.Chaos;

// bench/chaos.sh [--duration 120] [--mode kill|rolling|pause|coldstart|none] [--directory default|distributed]
//                [--gateway-mode cohosted|client] [--concurrency 16]
//                [--rooms 8] [--kill-interval 20] [--no-redis-kill] [--silos 3] [--gateways 2]
//                [--ready-to-run] (handled by chaos.sh: the nodes run from a ReadyToRun publish, CHAOS_NODES_DIRECTORY)
var options = new ChaosOptions();
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    options = args[i] switch
    {
        "--duration" => options with { Duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
        "--mode" => options with { Mode = Enum.Parse<ChaosMode>(Next(), ignoreCase: true) },
        "--directory" => options with { Directory = Next() },
        "--gateway-mode" => options with { GatewayMode = Next() },
        "--concurrency" => options with { Concurrency = int.Parse(Next(), CultureInfo.InvariantCulture) },
        "--rooms" => options with { Rooms = int.Parse(Next(), CultureInfo.InvariantCulture) },
        "--kill-interval" => options with { KillInterval = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
        "--no-redis-kill" => options with { KillRedis = false },
        "--silos" => options with { Silos = int.Parse(Next(), CultureInfo.InvariantCulture) },
        "--gateways" => options with { Gateways = int.Parse(Next(), CultureInfo.InvariantCulture) },
        _ => throw new ArgumentException($"unknown option {args[i]}"),
    };
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var clock = System.Diagnostics.Stopwatch.StartNew();
try
{
    var report = await ChaosRun.RunAsync(options, line => Console.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} {DateTime.UtcNow:HH:mm:ss.fff}] {line}"), cancel.Token);
    Console.WriteLine(report.Summary);
    return report.Violations.Count == 0 ? 0 : 1;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled; every process the harness started has been stopped");
    return 130;
}
catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
{
    // The cluster did not start or settle: not a verdict on the invariants, but a failed run.
    Console.Error.WriteLine($"chaos run failed: {ex.Message}");
    return 2;
}
