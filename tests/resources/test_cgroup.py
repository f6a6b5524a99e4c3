"""The cgroup reader on this machine's own cgroup files, and on trees written exactly as the
kernel lays out the other layouts (this machine mounts cgroup v1 controllers beside an empty
v2 hierarchy, so the pure-v2 layout of a current Kubernetes node is written by the test)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from jupyter_mlops.kube.cgroup import UNLIMITED, CgroupReader, hierarchies, pod_name


def busy(cpu_seconds: float) -> None:
    """Spin until this process has spent `cpu_seconds` of CPU (however busy the machine is)."""
    end = time.process_time() + cpu_seconds
    while time.process_time() < end:
        pass


def test_this_process_is_in_the_cgroups_found_for_memory_and_cpu() -> None:
    found = hierarchies()
    for controller in ("memory", "cpu"):
        procs = (found[controller].directory / "cgroup.procs").read_text().split()
        assert str(os.getpid()) in procs, (controller, found[controller])


def test_memory_use_rises_with_what_this_process_allocates() -> None:
    reader = CgroupReader()
    before = reader.sample().memory_bytes
    block = bytearray(256 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is charged
    after = reader.sample().memory_bytes
    assert before is not None and after is not None
    assert after - before >= 200 * 2**20
    del block


def test_cpu_use_is_at_least_what_this_process_spent() -> None:
    reader = CgroupReader()
    started, spent = time.monotonic(), time.process_time()
    reader.usage(interval=0)
    busy(0.4)
    sample, cores = reader.usage()
    elapsed, spent = time.monotonic() - started, time.process_time() - spent
    assert cores is not None and sample.cpu_seconds is not None and spent >= 0.4
    # The cgroup holds this process (and maybe others): it used at least our CPU time, over
    # no more than the time both samples took.
    assert cores >= 0.95 * spent / elapsed


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


POD = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-abc.scope"


def test_cgroup_v2_as_a_kubernetes_node_lays_it_out(tmp_path: Path) -> None:
    # A container without its own cgroup namespace: the full path, under a "/" mount.
    write(
        tmp_path,
        {
            "proc/self/cgroup": f"0::{POD}\n",
            "proc/self/mountinfo": (
                "25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 "
                "cgroup2 rw,nsdelegate,memory_recursiveprot\n"
            ),
            f"sys/fs/cgroup{POD}/cgroup.controllers": "cpuset cpu io memory hugetlb pids\n",
            f"sys/fs/cgroup{POD}/cpu.stat": "usage_usec 5000000\nuser_usec 4000000\n",
            f"sys/fs/cgroup{POD}/cpu.max": "150000 100000\n",
            f"sys/fs/cgroup{POD}/memory.current": "734003200\n",
            f"sys/fs/cgroup{POD}/memory.max": "2147483648\n",
        },
    )
    reader = CgroupReader(tmp_path)
    assert reader.version == 2
    first = reader.sample()
    assert (first.memory_bytes, first.memory_limit_bytes) == (734003200, 2147483648)
    assert first.cpu_limit_cores == 1.5 and first.cpu_seconds == 5.0
    reader.usage(interval=0)
    write(tmp_path, {f"sys/fs/cgroup{POD}/cpu.stat": "usage_usec 5300000\n"})
    time.sleep(0.2)
    _, cores = reader.usage()
    # 0.3 CPU-seconds over at least the 0.2 s slept.
    assert cores is not None and 0 < cores <= 0.3 / 0.2


def test_cgroup_v2_unlimited_in_its_own_namespace(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "proc/self/cgroup": "0::/\n",
            "proc/self/mountinfo": "30 25 0:27 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n",
            "sys/fs/cgroup/cgroup.controllers": "cpu memory pids\n",
            "sys/fs/cgroup/cpu.stat": "usage_usec 1\n",
            "sys/fs/cgroup/cpu.max": "max 100000\n",
            "sys/fs/cgroup/memory.current": "1048576\n",
            "sys/fs/cgroup/memory.max": "max\n",
        },
    )
    sample = CgroupReader(tmp_path).sample()
    assert sample.memory_limit_bytes is None and sample.cpu_limit_cores is None
    assert sample.memory_bytes == 1048576


def test_cgroup_v1_with_the_container_cgroup_mounted_as_the_root(tmp_path: Path) -> None:
    # Docker-style v1: each controller's mount root is the container's own cgroup, while
    # /proc/self/cgroup names the full path; cpu and cpuacct share one hierarchy.
    path = "/kubepods/burstable/pod1234/abc"
    write(
        tmp_path,
        {
            "proc/self/cgroup": (
                f"12:memory:{path}\n4:cpu,cpuacct:{path}\n1:name=systemd:{path}\n0::/\n"
            ),
            "proc/self/mountinfo": (
                f"40 35 0:36 {path} /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"
                f"41 35 0:37 {path} /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup "
                "rw,cpu,cpuacct\n"
                "42 35 0:38 / /sys/fs/cgroup/unified ro - cgroup2 cgroup2 rw\n"
            ),
            "sys/fs/cgroup/unified/cgroup.controllers": "\n",
            "sys/fs/cgroup/memory/memory.usage_in_bytes": "52428800\n",
            "sys/fs/cgroup/memory/memory.limit_in_bytes": str(UNLIMITED * 2 - 4096) + "\n",
            "sys/fs/cgroup/cpu,cpuacct/cpuacct.usage": "2000000000\n",
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "50000\n",
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        },
    )
    reader = CgroupReader(tmp_path)
    assert reader.version == 1
    sample = reader.sample()
    assert sample.memory_bytes == 52428800 and sample.memory_limit_bytes is None
    assert sample.cpu_seconds == 2.0 and sample.cpu_limit_cores == 0.5


def test_the_pod_is_named_by_hostname_or_by_the_notebook_prefix() -> None:
    assert pod_name({"HOSTNAME": "trainer-0"}) == "trainer-0"
    assert pod_name({"NB_PREFIX": "/notebook/kubeflow-user/trainer"}) == "trainer-0"
    assert pod_name({}) is None
