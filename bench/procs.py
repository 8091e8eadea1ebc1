"""CPU time of a process and its descendants, from /proc (Linux), for the benchmarks that count it."""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(grandchild for child in children for grandchild in process_tree(int(child)))]


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU of `pid` and its live descendants, plus (reaped) what its exited children had used."""
    total = 0
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if reaped and member == pid:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: children that ended (a database's backends)
    return total / TICK
