"""System metrics: CPU, memory, disk and network, container-aware.

psutil reports the host. Inside a container with cgroup v2 limits, the memory limit
(``memory.max``) and CPU quota (``cpu.max``) are what the process can actually use, so they
replace the host's totals when present. ``psutil.cpu_percent()`` returns 0.0 on its first
call (it has nothing to compare with); the collector primes it when built and never reports
that first reading.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil

__all__ = ["CgroupLimits", "SystemMetrics", "read_cgroup_limits"]

_CGROUP = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class CgroupLimits:
    """Limits of the current cgroup v2 (None where unlimited or absent)."""

    memory_bytes: int | None
    memory_used_bytes: int | None
    cpu_cores: float | None


def read_cgroup_limits(root: Path = _CGROUP) -> CgroupLimits:
    """Read ``memory.max``, ``memory.current`` and ``cpu.max`` (cgroup v2), if present."""
    memory = _read_int(root / "memory.max")
    used = _read_int(root / "memory.current")
    cores = None
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = int(quota) / int(period)
    except (OSError, ValueError):
        pass
    return CgroupLimits(memory, used, cores)


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return None if text == "max" or not text.isdigit() else int(text)


class SystemMetrics:
    """Collects ``driftline_system_*`` values: ``collect() -> {name: value}``.

    >>> metrics = SystemMetrics(disk_path=".")
    >>> values = metrics.collect()
    >>> 0.0 <= values["memory_percent"] <= 100.0 and values["cpu_cores"] > 0
    True
    """

    def __init__(
        self, *, disk_path: str | os.PathLike[str] = ".", cgroup_root: Path = _CGROUP
    ) -> None:
        self.disk_path = disk_path
        self.cgroup_root = cgroup_root
        self._process = psutil.Process()
        psutil.cpu_percent(interval=None)  # prime: the first reading is always 0.0
        self._process.cpu_percent(interval=None)

    def collect(self) -> dict[str, float]:
        """Current values; CPU percentages cover the time since the previous call."""
        limits = read_cgroup_limits(self.cgroup_root)
        host = psutil.virtual_memory()
        if limits.memory_bytes is not None and limits.memory_used_bytes is not None:
            total, used = float(limits.memory_bytes), float(limits.memory_used_bytes)
        else:
            total, used = float(host.total), float(host.total - host.available)
        cores = limits.cpu_cores or float(psutil.cpu_count() or 1)
        disk = psutil.disk_usage(str(self.disk_path))
        net = psutil.net_io_counters()
        return {
            "cpu_percent": psutil.cpu_percent(interval=None),
            "process_cpu_percent": self._process.cpu_percent(interval=None) / cores,
            "cpu_cores": cores,
            "memory_used_bytes": used,
            "memory_total_bytes": total,
            "memory_percent": 100.0 * used / total if total else 0.0,
            "process_rss_bytes": float(self._process.memory_info().rss),
            "disk_used_bytes": float(disk.used),
            "disk_percent": float(disk.percent),
            "network_sent_bytes": float(net.bytes_sent) if net else 0.0,
            "network_received_bytes": float(net.bytes_recv) if net else 0.0,
        }
