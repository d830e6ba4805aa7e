"""CPU time from /proc, for benchmarks that report CPU per message: the whole machine's busy
time, and one process's (with its reaped children). Linux only; reads, never writes."""
import os

_HZ = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all cores spent outside idle and iowait since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _HZ


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and of its children it has reaped (cutime + cstime)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / _HZ
