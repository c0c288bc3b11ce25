using System.Diagnostics;

namespace LiveGrains.Testing;

/// <summary>
/// An external process started by a test, with stdout and stderr captured into a bounded <see cref="OutputBuffer"/>.
/// Disposing it kills the whole process tree, so a failing test leaves nothing running.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process, string name, OutputBuffer output)
    {
        _process = process;
        Name = name;
        Output = output;
    }

    /// <summary>A label for diagnostics, e.g. "redis-server:6379".</summary>
    public string Name { get; }

    public int Id => _process.Id;

    /// <summary>The last lines the process wrote to stdout and stderr, interleaved.</summary>
    public OutputBuffer Output { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the process has exited (128 + n after signal n), otherwise null.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Completes when the process has exited.</summary>
    public Task Exited => _exited.Task;

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> passed verbatim (no shell quoting).
    /// <paramref name="environment"/> overrides inherited variables; a null value removes one.
    /// </summary>
    public static ChildProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        IEnumerable<KeyValuePair<string, string?>>? environment = null,
        string? workingDirectory = null,
        OutputBuffer? output = null,
        string? name = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? [])
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        var buffer = output ?? new OutputBuffer();
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new ChildProcess(process, name ?? Path.GetFileName(fileName), buffer);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                buffer.Add(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                buffer.Add(e.Data);
            }
        };
        process.Exited += (_, _) => child._exited.TrySetResult();
        try
        {
            process.Start();
        }
        catch (Exception ex)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start {fileName}: {ex.Message}", ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Nothing reads our stdin: close it so a child waiting on input sees EOF rather than hanging.
        process.StandardInput.Close();
        if (process.HasExited)
        {
            child._exited.TrySetResult();
        }

        return child;
    }

    /// <summary>Sends a POSIX signal to the process (not its children); false when it is gone.</summary>
    public bool Signal(int signal) => !HasExited && PosixSignals.Send(Id, signal);

    /// <summary>Waits for the process to exit; true if it did within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!HasExited)
        {
            try
            {
                await _exited.Task.WaitAsync(timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                if (!HasExited)
                {
                    return false;
                }
            }
        }

        await DrainOutputAsync();
        return true;
    }

    /// <summary>
    /// After an exit, waits briefly until the last output lines are read, so diagnostics show why it exited.
    /// Bounded because a surviving grandchild may hold the pipes open.
    /// </summary>
    private async Task DrainOutputAsync()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>SIGKILL to the process and all its descendants; returns once the process has exited.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"{Name} (pid {Id}) did not die within 30 s of SIGKILL.");
        }
    }

    /// <summary>
    /// Sends <paramref name="signal"/> (SIGTERM by default), waits up to <paramref name="timeout"/> for a graceful exit,
    /// then kills the process tree. Returns true when the process exited on its own.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan timeout, int signal = PosixSignals.SigTerm)
    {
        if (HasExited)
        {
            return true;
        }

        Signal(signal);
        if (await WaitForExitAsync(timeout))
        {
            return true;
        }

        Output.Add($"[test harness] {Name} did not exit within {timeout.TotalSeconds:0.#} s of signal {signal}; killing it.");
        Kill();
        return false;
    }

    /// <summary>A multi-line description (state, exit code and output tail) to put into failure messages.</summary>
    public string Describe(int maxLines = 100)
    {
        var state = HasExited ? $"exited with code {_process.ExitCode}" : "running";
        return $"{Name} (pid {Id}) is {state}. Last output:\n{Output.Tail(maxLines)}";
    }

    public ValueTask DisposeAsync()
    {
        if (!HasExited)
        {
            Kill();
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
