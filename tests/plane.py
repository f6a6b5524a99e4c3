"""The real Kubernetes control plane (etcd, kube-apiserver, -controller-manager, -scheduler,
kwok) for the session, a fresh namespace per test, and the product's `Cluster` in it; and the
plane shaped as a small Kubeflow cluster, with a fresh profile per test acting as its editor.

A pytest plugin (the root conftest loads it), so every test directory shares one plane per
session. The binaries come from `make control-plane`; without them the fixture fails (never
skips). Kubeflow's CRDs and ClusterRoles are installed once, by the first test that asks for
`kubeflow_plane` or `profile`, so tests that need neither do not wait for them.
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
from jupyter_mlops.testing.kubeflow_plane import EDITOR, Profile, create_profile, install_kubeflow

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
    """One test's namespace on the plane, with kubectl and the product's `Cluster` in it
    (acting as the admin, or as whoever `kubeconfig` names)."""

    def __init__(
        self, plane: ControlPlane, name: str, tmp_path: Path, kubeconfig: Path | None = None
    ) -> None:
        self.plane, self.name, self.tmp_path = plane, name, tmp_path
        self.kubeconfig = kubeconfig or plane.write_kubeconfig(
            tmp_path / "kubeconfig", namespace=name
        )
        self._clusters: list[Cluster] = []

    def cluster(self) -> Cluster:
        """The product's Cluster, configured as a user's kubeconfig would configure it."""
        settings = resolve(configure(kubeconfig=str(self.kubeconfig)), env={}, root=self.tmp_path)
        return self._keep(Cluster(settings))

    def _keep(self, cluster: Cluster) -> Cluster:
        self._clusters.append(cluster)
        return cluster

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.plane.kubectl(*args, kubeconfig=self.kubeconfig, check=check)

    def manifest(self, *objects: Obj) -> Path:
        """A new file holding `objects` (one object, or a List of several), for `kubectl -f`."""
        path = self.tmp_path / f"objects-{secrets.token_hex(4)}.json"
        body = (
            objects[0]
            if len(objects) == 1
            else {"apiVersion": "v1", "kind": "List", "items": list(objects)}
        )
        path.write_text(json.dumps(body))
        return path

    def apply(self, *objects: Obj) -> None:
        self.kubectl("apply", "-f", str(self.manifest(*objects)))

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
    """A new namespace, once it can hold pods (deleted afterwards, without waiting for its
    finalizers)."""
    name = f"t-{secrets.token_hex(4)}"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    plane.api("POST", "/api/v1/namespaces", body)
    # The ServiceAccount admission refuses pods until the controller made `default`.
    wait_for(
        f"the ServiceAccount {name}/default",
        lambda: plane.exists(f"/api/v1/namespaces/{name}/serviceaccounts/default"),
    )
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


@pytest.fixture(scope="session")
def kubeflow_plane(control_plane: ControlPlane) -> ControlPlane:
    """The session's plane with Kubeflow's CRDs and aggregated ClusterRoles installed."""
    install_kubeflow(control_plane)
    return control_plane


class ProfileNamespace(Namespace):
    """A fresh Kubeflow profile: `kubectl`, `apply`, `get`, `columns` and `cluster()` act as its
    `default-editor` ServiceAccount with a real token (TokenRequest); `admin` is the same
    namespace as the cluster admin, for setup the editor may not do."""

    def __init__(self, profile: Profile, tmp_path: Path) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.profile = profile
        self.owner = profile.owner
        self.token = profile.token(EDITOR)
        editor = profile.write_kubeconfig(tmp_path / "editor.kubeconfig", token=self.token)
        super().__init__(profile.plane, profile.name, tmp_path, kubeconfig=editor)
        admin_dir = tmp_path / "admin"
        admin_dir.mkdir(exist_ok=True)
        self.admin = Namespace(profile.plane, profile.name, admin_dir)

    def cluster(self, *, in_cluster: bool = False) -> Cluster:
        """The product's Cluster as the editor: from the editor's kubeconfig, or with
        `in_cluster` as in the editor's notebook pod (its ServiceAccount directory and the
        kubelet's variables, nothing else)."""
        if not in_cluster:
            return super().cluster()
        root = self.tmp_path / "pod"
        self.profile.write_serviceaccount_dir(root, EDITOR, token=self.token)
        settings = resolve(configure(), env=self.profile.in_cluster_env(), root=root)
        return self._keep(Cluster(settings))

    def close(self) -> None:
        super().close()
        self.admin.close()


@contextlib.contextmanager
def fresh_profile(
    plane: ControlPlane, tmp_path: Path, *, resource_quota: dict[str, str] | None = None
) -> Iterator[ProfileNamespace]:
    """A new profile `kubeflow-user-<hex>` owned by `user-<hex>@example.com`, with the
    Profile's `resource_quota` if given (deleted afterwards, without waiting). The plane must
    have Kubeflow installed (`kubeflow_plane`)."""
    suffix = secrets.token_hex(4)
    profile = create_profile(
        plane,
        f"kubeflow-user-{suffix}",
        owner=f"user-{suffix}@example.com",
        resource_quota=resource_quota,
    )
    try:
        ns = ProfileNamespace(profile, tmp_path)
    except BaseException:
        profile.delete()
        raise
    try:
        yield ns
    finally:
        ns.close()
        profile.delete()


@pytest.fixture
def profile(kubeflow_plane: ControlPlane, tmp_path: Path) -> Iterator[ProfileNamespace]:
    with fresh_profile(kubeflow_plane, tmp_path) as ns:
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
