"""The real Kubernetes control plane (etcd, kube-apiserver, -controller-manager, -scheduler,
kwok) for the session, a fresh namespace per test, and the product's `Cluster` in it.

A pytest plugin (the root conftest loads it), so every test directory shares one plane per
session. The binaries come from `make control-plane`; without them the fixture fails (never
skips).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.testing.control_plane import ControlPlane, NotBuilt

T = TypeVar("T")
Obj = dict[str, Any]


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    try:
        plane = ControlPlane()
    except NotBuilt as exc:
        pytest.fail(str(exc), pytrace=False)
    with plane:
        yield plane


class Namespace:
    """One test's namespace on the plane, with kubectl and the product's `Cluster` in it."""

    def __init__(self, plane: ControlPlane, name: str, tmp_path: Path) -> None:
        self.plane, self.name, self.tmp_path = plane, name, tmp_path
        self.kubeconfig = plane.write_kubeconfig(tmp_path / "kubeconfig", namespace=name)
        self._clusters: list[Cluster] = []

    def cluster(self) -> Cluster:
        """The product's Cluster, configured as a user's kubeconfig would configure it."""
        settings = resolve(configure(kubeconfig=str(self.kubeconfig)), env={}, root=self.tmp_path)
        cluster = Cluster(settings)
        self._clusters.append(cluster)
        return cluster

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.plane.kubectl(*args, kubeconfig=self.kubeconfig, check=check)

    def apply(self, *objects: Obj) -> None:
        manifest = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
        path = self.tmp_path / f"apply-{secrets.token_hex(4)}.json"
        path.write_text(json.dumps(manifest))
        self.kubectl("apply", "-f", str(path))

    def get(self, *args: str) -> Obj:
        out: Obj = json.loads(self.kubectl("get", *args, "-o", "json").stdout)
        return out

    def columns(self, *args: str) -> dict[str, str]:
        """The first row of `kubectl get ARGS` as {HEADER: cell}, cut at the header's columns."""
        lines = self.kubectl("get", *args).stdout.splitlines()
        header, line = lines[0], lines[1]
        # kubectl pads columns with 3 spaces; one space is inside a name ("NOMINATED NODE").
        starts = [
            i
            for i, ch in enumerate(header)
            if ch != " " and header[max(0, i - 2) : i] in ("", "  ")
        ]
        cells = {}
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else None
            cells[header[start:end].strip()] = line[start:end].strip()
        return cells

    def close(self) -> None:
        for cluster in self._clusters:
            cluster.close()


@contextlib.contextmanager
def fresh_namespace(plane: ControlPlane, tmp_path: Path) -> Iterator[Namespace]:
    """A new namespace (deleted afterwards, without waiting for its finalizers)."""
    name = f"t-{secrets.token_hex(4)}"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    plane.api("POST", "/api/v1/namespaces", body)
    ns = Namespace(plane, name, tmp_path)
    try:
        yield ns
    finally:
        ns.close()
        plane.api("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def namespace(control_plane: ControlPlane, tmp_path: Path) -> Iterator[Namespace]:
    with fresh_namespace(control_plane, tmp_path) as ns:
        yield ns


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
