using System.Collections.Concurrent;

namespace LiveGrains.Chaos;

/// <summary>One HTTP attempt: times are seconds since the run started; status 0 is a connection error or client timeout.</summary>
public sealed record Attempt(long OpId, string? Room, double Start, double End, int Status, string? Code, string Gateway);

/// <summary>One logical client operation (one Idempotency-Key), possibly retried; its final answer decides whether it was acknowledged.</summary>
public sealed class Op
{
    public required long Id { get; init; }

    public required string Kind { get; init; }

    public string? Room { get; set; }

    /// <summary>The live a transition or activity targets.</summary>
    public string? TargetLive { get; init; }

    /// <summary>The title sent on go-live and schedule, unique per operation, to find the live it made in the history.</summary>
    public string? Title { get; init; }

    public double Start { get; set; }

    public double End { get; set; }

    public int Status { get; set; }

    public string? Code { get; set; }

    public int Attempts { get; set; }

    /// <summary>True when any attempt may have reached a grain (not only 4xx refusals).</summary>
    public bool MayHaveApplied { get; set; }

    public string? ResultLive { get; set; }

    public string? ResultStatus { get; set; }

    public string? ResultEndReason { get; set; }

    public string? ClosedLive { get; set; }

    public string? ClosedEndReason { get; set; }

    public IReadOnlyList<string> Viewers { get; init; } = [];

    /// <summary>The final answer as received (content type, replay header, first 300 characters), for violation reports.</summary>
    public string? Answer { get; set; }

    public bool Acknowledged => Status is >= 200 and < 300;
}

/// <summary>Every request and answer of a run, and what the chaos did when.</summary>
public sealed class History
{
    public ConcurrentQueue<Op> Ops { get; } = new();

    public ConcurrentQueue<Attempt> Attempts { get; } = new();

    /// <summary>(time, description) of every kill and restart.</summary>
    public ConcurrentQueue<(double At, string What)> Events { get; } = new();

    /// <summary>Seconds from a kill -9 of a silo until the membership table marked it Dead.</summary>
    public ConcurrentQueue<double> DetectionSeconds { get; } = new();

    /// <summary>What the chaos itself saw break (e.g. a paused silo that kept running after it was declared dead).</summary>
    public ConcurrentQueue<string> ChaosViolations { get; } = new();

    /// <summary>What the chaos measured besides detection, for the summary (e.g. how long a resumed silo took to stop).</summary>
    public ConcurrentQueue<string> ChaosNotes { get; } = new();

    /// <summary>Seconds from restarting every node after a total crash until the API answered again (cold-start mode).</summary>
    public ConcurrentQueue<double> ColdStartSeconds { get; } = new();

    /// <summary>Paused silos that were declared dead and then stopped by themselves once resumed.</summary>
    public ConcurrentQueue<double> FencedExitSeconds { get; } = new();

    /// <summary>Load types skipped because the gateway does not have the route.</summary>
    public ConcurrentDictionary<string, string> Skipped { get; } = new();
}
