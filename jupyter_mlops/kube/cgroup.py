"""This process's CPU and memory from its own cgroup (v2, or v1 controllers), no API needed.

A controller bound to a v1 hierarchy (a `N:memory:/path` line of /proc/self/cgroup) is read
there; one that is not is on the v2 hierarchy (the `0::/path` line). Each path is found under
the hierarchy's mount point in /proc/self/mountinfo, less the mount's own root (a container's
cgroup namespace mounts its cgroup as the root).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

#: v1 writes "no limit" as the largest page-aligned 64-bit number; anything this big is none.
UNLIMITED = 2**62


@dataclass(frozen=True)
class Hierarchy:
    """Where one controller's files of this process's cgroup are."""

    version: int
    directory: Path


@dataclass(frozen=True)
class Sample:
    """One reading: cumulative CPU seconds, memory bytes, and the limits, at a monotonic time."""

    at: float
    cpu_seconds: float | None
    memory_bytes: int | None
    memory_limit_bytes: int | None
    cpu_limit_cores: float | None


def _mounts(mountinfo: str) -> list[tuple[str, str, str, str]]:
    """(root, mount point, filesystem type, super options) of each cgroup mount."""
    found = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3 or not tail[0].startswith("cgroup"):
            continue
        found.append((fields[3], fields[4], tail[0], tail[2]))
    return found


def _under(root: Path, mount_point: str, mount_root: str, path: str) -> Path:
    relative = path[len(mount_root) :] if path.startswith(mount_root) else path
    return root / mount_point.lstrip("/") / relative.lstrip("/")


def hierarchies(root: Path = Path("/")) -> dict[str, Hierarchy]:
    """The directory of this process's cgroup for `memory` and `cpu` (and v1's `cpuacct`).

    `root` is where /proc and /sys are (a test passes a tree it wrote).
    """
    proc = root / "proc" / "self"
    lines = (proc / "cgroup").read_text().splitlines()
    mounts = _mounts((proc / "mountinfo").read_text())
    found: dict[str, Hierarchy] = {}
    v2_path: str | None = None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            v2_path = path
            continue
        for controller in controllers.split(","):
            for mount_root, point, fstype, options in mounts:
                if fstype == "cgroup" and controller in options.split(","):
                    where = _under(root, point, mount_root, path)
                    found[controller] = Hierarchy(1, where)
    if v2_path is not None:
        for mount_root, point, fstype, _ in mounts:
            if fstype != "cgroup2":
                continue
            directory = _under(root, point, mount_root, v2_path)
            enabled = _read(directory / "cgroup.controllers") or ""
            for controller in ("memory", "cpu"):
                # A controller still bound to v1 is not enabled on the v2 hierarchy.
                if controller not in found and controller in enabled.split():
                    found[controller] = Hierarchy(2, directory)
    return found


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _number(text: str | None) -> int | None:
    if text is None or text == "max":
        return None
    try:
        value = int(text.split()[0])
    except (ValueError, IndexError):
        return None
    return value if 0 <= value < UNLIMITED else None


def _cpu_seconds(found: dict[str, Hierarchy]) -> float | None:
    cpu = found.get("cpu")
    if cpu is not None and cpu.version == 2:
        for line in (_read(cpu.directory / "cpu.stat") or "").splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
        return None
    acct = found.get("cpuacct")
    nanos = _number(_read(acct.directory / "cpuacct.usage")) if acct else None
    return nanos / 1e9 if nanos is not None else None


def _cpu_limit(found: dict[str, Hierarchy]) -> float | None:
    cpu = found.get("cpu")
    if cpu is None:
        return None
    if cpu.version == 2:
        quota, _, period = (_read(cpu.directory / "cpu.max") or "max").partition(" ")
        if quota == "max" or not period:
            return None
        return int(quota) / int(period)
    quota_us = _read(cpu.directory / "cpu.cfs_quota_us")
    period_us = _number(_read(cpu.directory / "cpu.cfs_period_us"))
    if quota_us is None or period_us is None or quota_us.startswith("-"):
        return None
    return int(quota_us) / period_us


def _memory(found: dict[str, Hierarchy]) -> tuple[int | None, int | None]:
    memory = found.get("memory")
    if memory is None:
        return None, None
    if memory.version == 2:
        used, limit = "memory.current", "memory.max"
    else:
        used, limit = "memory.usage_in_bytes", "memory.limit_in_bytes"
    return _number(_read(memory.directory / used)), _number(_read(memory.directory / limit))


class CgroupReader:
    """Reads this process's cgroup; CPU use is the usage counter's rise over wall time."""

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = root
        self.hierarchies = hierarchies(root)
        self._last: Sample | None = None

    @property
    def version(self) -> int | None:
        """The cgroup version the memory controller is on (None without one)."""
        memory = self.hierarchies.get("memory") or self.hierarchies.get("cpu")
        return memory.version if memory else None

    def sample(self) -> Sample:
        used, limit = _memory(self.hierarchies)
        return Sample(
            time.monotonic(),
            _cpu_seconds(self.hierarchies),
            used,
            limit,
            _cpu_limit(self.hierarchies),
        )

    def usage(self, interval: float = 0.5) -> tuple[Sample, float | None]:
        """The latest sample and the CPU cores used since the previous one (a first call
        samples twice, `interval` apart)."""
        if self._last is None:
            self._last = self.sample()
            time.sleep(interval)
        now, before = self.sample(), self._last
        self._last = now
        if now.cpu_seconds is None or before.cpu_seconds is None or now.at <= before.at:
            return now, None
        return now, max(0.0, (now.cpu_seconds - before.cpu_seconds) / (now.at - before.at))


def pod_name(env: dict[str, str] | None = None) -> str | None:
    """This pod's name: the kubelet sets $HOSTNAME to it (a notebook's is `<name>-0`)."""
    values = os.environ if env is None else env
    name = values.get("HOSTNAME")
    if name:
        return name
    prefix = values.get("NB_PREFIX", "").strip("/").split("/")
    return f"{prefix[2]}-0" if len(prefix) == 3 and prefix[0] == "notebook" else None


__all__ = ["CgroupReader", "Hierarchy", "Sample", "hierarchies", "pod_name"]
