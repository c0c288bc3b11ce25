using System.Text;

namespace LiveGrains.Testing;

/// <summary>
/// A thread-safe ring buffer of the last lines a child process wrote. It is bounded so that a chatty
/// process in a long test cannot grow memory, and it is what a failing test prints for diagnostics.
/// </summary>
public sealed class OutputBuffer
{
    private readonly Queue<string> _lines;
    private readonly Lock _gate = new();
    private long _totalLines;

    public OutputBuffer(int capacity = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _lines = new Queue<string>(Math.Min(capacity, 256));
    }

    /// <summary>How many lines are kept; older ones are dropped.</summary>
    public int Capacity { get; }

    /// <summary>How many lines were ever added, including dropped ones.</summary>
    public long TotalLines
    {
        get
        {
            lock (_gate)
            {
                return _totalLines;
            }
        }
    }

    public void Add(string line)
    {
        lock (_gate)
        {
            if (_lines.Count == Capacity)
            {
                _lines.Dequeue();
            }

            _lines.Enqueue(line);
            _totalLines++;
        }
    }

    /// <summary>A snapshot of the kept lines, oldest first.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>True when a kept line contains <paramref name="text"/> (ordinal).</summary>
    public bool Contains(string text)
    {
        lock (_gate)
        {
            foreach (var line in _lines)
            {
                if (line.Contains(text, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>The last <paramref name="maxLines"/> kept lines as one string.</summary>
    public string Tail(int maxLines = 200)
    {
        lock (_gate)
        {
            var skip = Math.Max(0, _lines.Count - maxLines);
            var builder = new StringBuilder();
            var dropped = _totalLines - _lines.Count + skip;
            if (dropped > 0)
            {
                builder.Append("... (").Append(dropped).Append(" earlier lines not shown)\n");
            }

            foreach (var line in _lines.Skip(skip))
            {
                builder.Append(line).Append('\n');
            }

            return builder.ToString();
        }
    }

    public override string ToString() => Tail(Capacity);
}
