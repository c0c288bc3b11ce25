using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LiveGrains.Chaos;

/// <summary>The outcome of a run: figures, every violation found, and a printable summary.</summary>
public sealed record ChaosReport(
    int Requests,
    int Operations,
    IReadOnlyDictionary<string, int> AttemptsByStatus,
    IReadOnlyDictionary<string, int> OperationsByFinalStatus,
    double LongestUnavailabilitySeconds,
    string LongestUnavailabilityDetail,
    IReadOnlyList<double> DetectionSeconds,
    IReadOnlyList<string> Violations,
    IReadOnlyList<string> Notes,
    string Summary)
{
    /// <summary>Cold-start mode: seconds from restarting every node after a total crash until the API answered.</summary>
    public IReadOnlyList<double> ColdStartSeconds { get; init; } = [];

    /// <summary>Pause mode: seconds from SIGCONT until the silo, declared dead while paused, had stopped by itself.</summary>
    public IReadOnlyList<double> FencedExitSeconds { get; init; } = [];

    /// <summary>Attempts that were not 2xx and not an expected business 4xx (so 5xx, connection errors, client timeouts).</summary>
    public int FailedAttempts => AttemptsByStatus.Where(p => p.Key.StartsWith('5') || p.Key.StartsWith('0')).Sum(p => p.Value);
}

/// <summary>Reads the final state of every room through the API and checks it against every recorded answer.</summary>
public sealed class HistoryChecker(ChaosClient client, History history, IReadOnlyList<string> rooms)
{
    private static readonly HashSet<string> Active = ["live", "paused"];

    public async Task<ChaosReport> CheckAsync(ChaosOptions options, double loadSeconds)
    {
        var ops = history.Ops.Where(o => o.Kind != "check").ToList();
        var attempts = history.Attempts.Where(a => ops.Any(o => o.Id == a.OpId) || a.Room is not null).ToList();
        var opIds = ops.Select(o => o.Id).ToHashSet();
        attempts = [.. history.Attempts.Where(a => opIds.Contains(a.OpId))];
        var violations = new List<string>();
        var notes = new List<string>();
        var finals = new Dictionary<string, (string Room, JsonElement Live)>();

        foreach (var room in rooms)
        {
            var roomBody = await client.GetCheckedAsync($"/v1/rooms/{room}");
            var activeId = ChaosClient.Str(roomBody, "active_live_id");
            var items = new List<JsonElement>();
            string? cursor = null;
            do
            {
                var page = await client.GetCheckedAsync($"/v1/rooms/{room}/lives?limit=100" + (cursor is null ? string.Empty : $"&cursor={Uri.EscapeDataString(cursor)}"));
                items.AddRange(page.GetProperty("items").EnumerateArray());
                cursor = ChaosClient.Str(page, "next_cursor");
            }
            while (cursor is not null);

            var activeLives = items.Where(l => Active.Contains(ChaosClient.Str(l, "status") ?? string.Empty)).ToList();
            if (activeLives.Count > 1)
            {
                violations.Add($"room {room}: {activeLives.Count} lives in live/paused: {string.Join(", ", activeLives.Select(l => ChaosClient.Str(l, "live_id")))}");
            }

            var theActive = activeLives.Count == 1 ? ChaosClient.Str(activeLives[0], "live_id") : null;
            if (activeLives.Count <= 1 && theActive != activeId)
            {
                violations.Add($"room {room}: active_live_id is {activeId ?? "null"} but the live in live/paused is {theActive ?? "none"}");
            }

            foreach (var duplicate in items.GroupBy(l => ChaosClient.Str(l, "title")).Where(g => g.Key is not null && g.Count() > 1))
            {
                violations.Add($"room {room}: {duplicate.Count()} lives made by one request (title {duplicate.Key}, one Idempotency-Key): {string.Join(", ", duplicate.Select(l => ChaosClient.Str(l, "live_id")))}");
            }

            foreach (var live in items)
            {
                finals[ChaosClient.Str(live, "live_id")!] = (room, live);
            }
        }

        var byLive = ops.Where(o => o.TargetLive is not null).GroupBy(o => o.TargetLive!).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var op in ops.Where(o => o.Acknowledged))
        {
            switch (op.Kind)
            {
                case "go_live" or "schedule":
                    if (op.ResultLive is null || !finals.TryGetValue(op.ResultLive, out var made))
                    {
                        violations.Add($"op {op.Id} {op.Kind} on {op.Room} answered {op.Status} with live {op.ResultLive}, which is not in the room's history");
                    }
                    else if (ChaosClient.Str(made.Live, "title") != op.Title)
                    {
                        violations.Add($"op {op.Id} {op.Kind}: live {op.ResultLive} has title {ChaosClient.Str(made.Live, "title")}, expected {op.Title}");
                    }

                    if (op.ClosedLive is not null)
                    {
                        ExpectEnded(op.ClosedLive, "superseded", $"op {op.Id} go-live returned it as closed_live");
                    }

                    break;
                case "ready" or "start" or "pause" or "resume" or "end" when op.ResultStatus is null:
                    violations.Add($"op {op.Id} {op.Kind} answered {op.Status} without the live it changed; {Describe(op, attempts)}");
                    break;
                case "end":
                    ExpectEnded(op.TargetLive!, op.ResultEndReason, $"op {op.Id} end answered {op.Status}");
                    break;
            }
        }

        // The last acknowledged transition of a live is its final state, unless something that may have changed the
        // live later was sent (another transition whose outcome is unknown or later) or the room superseded it.
        foreach (var (liveId, list) in byLive)
        {
            if (!finals.TryGetValue(liveId, out var final))
            {
                continue;
            }

            var finalStatus = ChaosClient.Str(final.Live, "status");
            var finalReason = ChaosClient.Str(final.Live, "end_reason");
            var transitions = list.Where(o => o.Kind is "ready" or "start" or "pause" or "resume" or "end").ToList();
            var last = transitions.Where(o => o.Acknowledged).MaxBy(o => o.End);
            if (last is not null && !transitions.Any(o => o != last && o.MayHaveApplied && o.End > last.Start)
                && finalStatus != last.ResultStatus && !(finalStatus == "ended" && finalReason == "superseded"))
            {
                violations.Add($"live {liveId}: the last acknowledged transition (op {last.Id} {last.Kind} -> {last.ResultStatus}) is not its final state ({finalStatus}/{finalReason}); {Describe(last, attempts)}");
            }

            if (finalStatus == "ended" && finalReason == "ended" && !transitions.Any(o => o.Kind == "end" && o.MayHaveApplied))
            {
                violations.Add($"live {liveId}: ended with end_reason 'ended' but no end request that may have applied was ever sent");
            }
        }

        foreach (var (liveId, (room, live)) in finals)
        {
            if (ChaosClient.Str(live, "end_reason") == "superseded"
                && !finals.Values.Any(o => o.Room == room && string.CompareOrdinal(ChaosClient.Str(o.Live, "created_at"), ChaosClient.Str(live, "created_at")) > 0)
                && !ops.Any(o => o.Kind == "start" && o.MayHaveApplied && finals.TryGetValue(o.TargetLive!, out var s) && s.Room == room && o.TargetLive != liveId))
            {
                violations.Add($"live {liveId}: superseded, but no later live in room {room} could have taken over");
            }
        }

        await CheckStatsAsync(ops, finals, options.Mode, violations, notes);

        // Availability: per room, the longest stretch from a failed attempt (5xx, connection error, client timeout)
        // to the next answered attempt on that room.
        var longest = 0.0;
        var longestDetail = "no failed requests";
        var events = history.Events.ToList();
        foreach (var group in attempts.Where(a => a.Room is not null).GroupBy(a => a.Room!))
        {
            double? failingSince = null;
            foreach (var a in group.OrderBy(a => a.End))
            {
                var failed = a.Status is 0 or >= 500;
                if (failed)
                {
                    failingSince ??= a.Start;
                }
                else if (failingSince is { } since)
                {
                    var window = a.End - since;
                    if (window > longest)
                    {
                        longest = window;
                        var cause = events.Where(e => e.At <= since).Select(e => $"{e.What} at t={e.At:0.0}s").LastOrDefault() ?? "no chaos event before it";
                        longestDetail = $"room {group.Key}, t={since:0.0}s..{a.End:0.0}s, after {cause}";
                    }

                    failingSince = null;
                }
            }
        }

        var byStatus = attempts.GroupBy(a => a.Status == 0 ? $"0 {a.Code}" : a.Code is null ? a.Status.ToString(CultureInfo.InvariantCulture) : $"{a.Status} {a.Code}")
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        var byFinal = ops.GroupBy(o => $"{o.Kind} {(o.Status == 0 ? "0 " + o.Code : o.Code is null ? o.Status.ToString(CultureInfo.InvariantCulture) : $"{o.Status} {o.Code}")}")
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        notes.AddRange(history.Skipped.Values);
        notes.AddRange(history.ChaosNotes);
        foreach (var odd in ops.Where(o => o.Status >= 400 && o.Code is null).Take(5))
        {
            notes.Add($"op {odd.Id} {odd.Kind} answered {odd.Status} without a problem code; {Describe(odd, attempts)}");
        }
        violations.AddRange(history.ChaosViolations);
        var detection = history.DetectionSeconds.ToList();

        var summary = new StringBuilder();
        summary.AppendLine(CultureInfo.InvariantCulture, $"== LiveGrains chaos: mode {options.Mode}, directory {options.Directory}, {options.Silos} silos + {options.Gateways} {options.GatewayMode} gateways, {options.Concurrency} clients, {options.Rooms} rooms, load {loadSeconds:0} s ==");
        summary.AppendLine(CultureInfo.InvariantCulture, $"requests (HTTP attempts): {attempts.Count}   operations: {ops.Count}   ({attempts.Count / Math.Max(1, loadSeconds):0} req/s)");
        summary.AppendLine("attempts by status:");
        foreach (var (k, v) in byStatus)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"  {k,-36} {v}");
        }

        summary.AppendLine("operations by kind and final answer (after retries):");
        foreach (var (k, v) in byFinal)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"  {k,-36} {v}");
        }

        summary.AppendLine("chaos events:");
        foreach (var (at, what) in events)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"  t={at,6:0.0}s {what}");
        }

        if (detection.Count > 0)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"killed silo declared dead after: min {detection.Min():0.0} s, median {detection.Order().ElementAt(detection.Count / 2):0.0} s, max {detection.Max():0.0} s ({detection.Count} kills)");
        }

        if (!history.ColdStartSeconds.IsEmpty)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"cold starts (every node killed, then restarted): API answered again after {string.Join(" / ", history.ColdStartSeconds.Select(s => s.ToString("0.0", CultureInfo.InvariantCulture)))} s");
        }

        if (!history.FencedExitSeconds.IsEmpty)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"paused silos, declared dead, stopped by themselves after SIGCONT within: {string.Join(" / ", history.FencedExitSeconds.Select(s => s.ToString("0.00", CultureInfo.InvariantCulture)))} s");
        }

        summary.AppendLine(CultureInfo.InvariantCulture, $"longest unavailability of a room: {longest:0.00} s ({longestDetail})");

        // The same question asked of slow answers too: from each attempt's start to the first answer on its room that
        // ended after it (any status below 500 but 409 in-progress). A call that waited out a 10 s call timeout and then
        // succeeded is no failed attempt, so the line above does not see it; this one does. Per chaos event: the longest
        // such wait of an attempt that started between that event and the next.
        var waits = new List<(double At, double Wait, string Room)>();
        foreach (var group in attempts.Where(a => a.Room is not null).GroupBy(a => a.Room!))
        {
            var answers = group.Where(a => a.Status is > 0 and < 500 && a.Code != "idempotency_in_progress").Select(a => a.End).Order().ToArray();
            foreach (var a in group)
            {
                var next = Array.BinarySearch(answers, a.Start);
                next = next < 0 ? ~next : next;
                if (next < answers.Length)
                {
                    waits.Add((a.Start, answers[next] - a.Start, group.Key));
                }
            }
        }

        if (waits.Count > 0)
        {
            var worst = waits.MaxBy(w => w.Wait);
            summary.AppendLine(CultureInfo.InvariantCulture, $"longest wait for an answer on a room (slow answers included): {worst.Wait:0.00} s (room {worst.Room}, from t={worst.At:0.0}s)");
            for (var e = 0; e < events.Count; e++)
            {
                var (from, what) = events[e];
                var until = e + 1 < events.Count ? events[e + 1].At : double.MaxValue;
                var inWindow = waits.Where(w => w.At >= from && w.At < until).ToList();
                if (inWindow.Count > 0)
                {
                    var top = inWindow.MaxBy(w => w.Wait);
                    summary.AppendLine(CultureInfo.InvariantCulture, $"  after t={from,6:0.0}s {what}: {top.Wait:0.00} s (room {top.Room}, from t={top.At:0.0}s)");
                }
            }

            // The issue's figure, per silo kill: the longest wait of an attempt in flight at the kill or started after it,
            // before the next kill -9 (of a silo or Redis). Unlike the per-event lines above, this counts the attempt
            // that started just before the kill, and what started after the killed silo's restart (which often follows
            // the kill by under a second) is still counted against the kill.
            var kills = events.Where(e => e.What.StartsWith("kill -9 ", StringComparison.Ordinal) && !e.What.StartsWith("kill -9 every", StringComparison.Ordinal)).ToList();
            var perKill = new List<(double At, string What, double Wait)>();
            for (var k = 0; k < kills.Count; k++)
            {
                var (at, what) = kills[k];
                if (what.Contains("redis", StringComparison.Ordinal))
                {
                    continue;
                }

                var until = k + 1 < kills.Count ? kills[k + 1].At : double.MaxValue;
                var affected = waits.Where(w => w.At < until && w.At + w.Wait > at).ToList();
                perKill.Add((at, what, affected.Count == 0 ? 0 : affected.Max(w => w.Wait)));
            }

            if (perKill.Count > 0)
            {
                var sorted = perKill.Select(p => p.Wait).Order().ToArray();
                var within = sorted.Count(w => w <= 3.0);
                summary.AppendLine(CultureInfo.InvariantCulture, $"longest wait per silo kill (in flight at the kill or started before the next kill): median {sorted[sorted.Length / 2]:0.00} s; {within} of {sorted.Length} <= 3 s; worst {string.Join(", ", perKill.OrderByDescending(p => p.Wait).Take(5).Select(p => $"{p.Wait:0.00} s (t={p.At:0.0}s {p.What})"))}");
            }
        }
        foreach (var note in notes)
        {
            summary.AppendLine("note: " + note);
        }

        summary.AppendLine(CultureInfo.InvariantCulture, $"violations: {violations.Count}");
        foreach (var v in violations.Take(50))
        {
            summary.AppendLine("  VIOLATION " + v);
        }

        return new ChaosReport(attempts.Count, ops.Count, byStatus, byFinal, longest, longestDetail, detection, violations, notes, summary.ToString())
        {
            ColdStartSeconds = [.. history.ColdStartSeconds],
            FencedExitSeconds = [.. history.FencedExitSeconds],
        };

        void ExpectEnded(string liveId, string? reason, string because)
        {
            if (!finals.TryGetValue(liveId, out var f))
            {
                violations.Add($"live {liveId} ({because}) is not in any room's history");
                return;
            }

            var status = ChaosClient.Str(f.Live, "status");
            var endReason = ChaosClient.Str(f.Live, "end_reason");
            if (status != "ended" || (reason is not null && endReason != reason))
            {
                violations.Add($"live {liveId}: {because}, so it must be ended ({reason}), but it is {status}/{endReason}");
            }
        }
    }

    /// <summary>
    /// Every acknowledged (202) join must be in the live's <c>unique_viewer_count</c>, read from
    /// <c>GET /v1/lives/{id}/stats</c> (the stats grain). The <c>stats</c> inside the room's history items are not
    /// that: <c>GET /v1/rooms/{id}/lives</c> returns each live grain's last cached counters (refreshed only by
    /// <c>GET /v1/lives/{id}</c> and transitions, zero after the live grain moved to another silo), so they are only
    /// reported for comparison. Joins of unacknowledged requests that may have run can only add viewers. With
    /// graceful (or no) chaos nothing accepted may be missing (issue #3): a shortfall is a violation; with kill -9 it
    /// is a note.
    /// </summary>
    private async Task CheckStatsAsync(List<Op> ops, Dictionary<string, (string Room, JsonElement Live)> finals, ChaosMode mode, List<string> violations, List<string> notes)
    {
        var activity = ops.Where(o => o.Kind == "activity" && o.TargetLive is not null).GroupBy(o => o.TargetLive!).ToList();
        var acked = activity.Where(g => g.Any(o => o.Acknowledged))
            .ToDictionary(g => g.Key, g => (
                Acked: g.Where(o => o.Acknowledged).SelectMany(o => o.Viewers).ToHashSet(),
                Maybe: g.Where(o => o.MayHaveApplied).SelectMany(o => o.Viewers).ToHashSet()));
        if (acked.Count == 0)
        {
            return;
        }

        long expected = 0, seen = 0, listed = 0;
        var short_ = 0;
        var listShort = 0;
        foreach (var (liveId, (ackedViewers, maybeViewers)) in acked)
        {
            var stats = await client.GetCheckedAsync($"/v1/lives/{liveId}/stats");
            var count = stats.GetProperty("unique_viewer_count").GetInt64();
            var unique = ackedViewers.Count;
            expected += unique;
            seen += Math.Min(count, unique);
            if (count < unique)
            {
                short_++;
                if (mode is ChaosMode.Rolling or ChaosMode.None)
                {
                    // What a trace in the process logs needs: when and through which gateway each acknowledged join went.
                    var requests = string.Join("; ", activity.First(g => g.Key == liveId).Where(o => o.Acknowledged).Select(o =>
                        $"t={o.Start:0.0}-{o.End:0.0}s via {string.Join(",", history.Attempts.Where(a => a.OpId == o.Id).Select(a => a.Gateway).Distinct())}"));
                    var status = finals.TryGetValue(liveId, out var final) ? ChaosClient.Str(final.Live, "status") : "not in any history";
                    violations.Add($"live {liveId} ({status}): {unique} distinct viewers got 202 joins but GET /stats counts unique_viewer_count {count} (acknowledged activity: {requests})");
                }
            }
            else if (count > maybeViewers.Count)
            {
                violations.Add($"live {liveId}: unique_viewer_count {count}, but only {maybeViewers.Count} distinct viewers were ever sent in requests that may have run");
            }

            if (finals.TryGetValue(liveId, out var f) && f.Live.TryGetProperty("stats", out var cached) && cached.ValueKind == JsonValueKind.Object
                && cached.TryGetProperty("unique_viewer_count", out var u) && u.ValueKind == JsonValueKind.Number)
            {
                listed += Math.Min(u.GetInt64(), unique);
                listShort += u.GetInt64() < unique ? 1 : 0;
            }
        }

        var lost = expected - seen;
        notes.Add($"stats: {acked.Count} lives got acknowledged joins of {expected} distinct viewers; GET /stats unique_viewer_count is short by {lost} ({(expected == 0 ? 0 : 100.0 * lost / expected):0.00}%) on {short_} lives"
            + (mode is not (ChaosMode.Rolling or ChaosMode.None) ? " (joins accepted just before a kill -9 may be lost: see docs/chaos.md)" : string.Empty)
            + $"; the room history items' cached stats would be short by {expected - listed} on {listShort} lives (not a stats read)");
    }

    /// <summary>An operation's attempts and final answer, so a violation report says what the client saw.</summary>
    private static string Describe(Op op, IEnumerable<Attempt> attempts) =>
        $"attempts: {string.Join(", ", attempts.Where(a => a.OpId == op.Id).Select(a => $"{a.Gateway} t={a.Start:0.0}..{a.End:0.0} {a.Status} {a.Code}".TrimEnd()))}; answer: {op.Answer}";
}
