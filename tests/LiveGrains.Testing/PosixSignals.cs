using System.Runtime.InteropServices;

namespace LiveGrains.Testing;

/// <summary>Sends POSIX signals (what <c>kill -TERM pid</c> does, without spawning a process).</summary>
public static class PosixSignals
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>SIGCONT on Linux: resume a stopped process.</summary>
    public const int SigCont = 18;

    /// <summary>SIGSTOP on Linux: freeze a process (it cannot catch it), as a long GC pause or a frozen VM would.</summary>
    public const int SigStop = 19;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="processId"/>; false when the process is gone.</summary>
    public static bool Send(int processId, int signal)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            throw new PlatformNotSupportedException("POSIX signals need a Unix-like OS.");
        }

        return NativeKill(processId, signal) == 0;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int NativeKill(int pid, int sig);
}
