"""The doctor against the Kubernetes emulator, read through the product's own WatchCache.

Where the emulator's controllers do not produce a state (GPU nodes, the kubelet's pull errors,
probes), the objects are written exactly as the named component writes them.

test_doctor_real_plane.py reproduces the causes with the real components, on the plane of
tests/plane.py.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import jupyter_mlops.testing.kubeflow as kubeflow_fixtures
from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.doctor import DoctorReport, Finding, examine, examine_object
from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.testing.kube import KubeEmulator, kubeflow_edit_rules
from tests.plane import Namespace, wait_for  # noqa: F401 (for test_doctor_real_plane.py)

Obj = dict[str, Any]
NAMESPACE = "team"
EDITOR_TOKEN = "team-editor-token"
CRDS = Path(kubeflow_fixtures.__file__).parent / "manifests" / "crds.yaml"


def now(offset: float = 0.0) -> str:
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(
    name: str,
    *,
    image: str = "python:3.11",
    owner: Obj | None = None,
    labels: dict[str, str] | None = None,
    **container: Any,
) -> Obj:
    meta: Obj = {"name": name, "namespace": NAMESPACE, "labels": labels or {}}
    if owner is not None:
        meta["ownerReferences"] = [controller_ref(owner)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "main", "image": image, **container}]},
    }


def controller_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def on_node(obj: Obj, status: Obj) -> Obj:
    """The pod bound to the emulated node with the status the kubelet reports."""
    obj["spec"]["nodeName"] = "emulated-node"
    obj["status"] = {"startTime": now(-600), **status}
    return obj


def waiting(reason: str, message: str, **extra: Any) -> Obj:
    """A pod whose container waits, as the kubelet reports it."""
    return {
        "phase": "Pending" if reason != "CrashLoopBackOff" else "Running",
        "containerStatuses": [
            {
                "name": "main",
                "image": extra.pop("image", "python:3.11"),
                "imageID": "",
                "ready": False,
                "started": False,
                "restartCount": extra.pop("restarts", 0),
                "state": {"waiting": {"reason": reason, "message": message}},
                "lastState": extra.pop("last", {}),
            }
        ],
    }


def event(
    about: Obj,
    reason: str,
    message: str,
    *,
    component: str,
    type_: str = "Warning",
    container: str | None = None,
    count: int = 1,
) -> Obj:
    """A core/v1 Event as the named component's event recorder writes it."""
    meta = about["metadata"]
    involved: Obj = {
        "kind": about["kind"],
        "namespace": NAMESPACE,
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "apiVersion": about["apiVersion"],
    }
    if container:
        involved["fieldPath"] = f"spec.containers{{{container}}}"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": NAMESPACE},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": {"component": component, "host": "emulated-node"}
        if component == "kubelet"
        else {"component": component},
        "firstTimestamp": now(-120),
        "lastTimestamp": now(-5),
        "count": count,
        "type": type_,
        "reportingComponent": component,
        "reportingInstance": "emulated-node" if component == "kubelet" else "",
    }


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(seed=[CRDS], pod_start_delay=0.01, bookmark_interval=0.5) as emulator:
        emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        emulator.add_token(
            EDITOR_TOKEN,
            f"system:serviceaccount:{NAMESPACE}:default-editor",
            kubeflow_edit_rules(NAMESPACE),
        )
        yield emulator


def cluster_for(kube: KubeEmulator, tmp_path: Path, token: str | None = None) -> Cluster:
    kubeconfig = kube.write_kubeconfig(
        tmp_path / f"kubeconfig-{token}", token=token, namespace=NAMESPACE
    )
    settings = resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=tmp_path)
    return Cluster(settings)


class Doctor:
    """The doctor over one WatchCache, waiting for the informers to see what a test wrote."""

    def __init__(self, cache: WatchCache) -> None:
        self.cache = cache

    def report(self, **kw: Any) -> DoctorReport:
        return examine(self.cache, NAMESPACE, **kw)

    def finding(
        self, cause: str, name: str | None = None, timeout: float = 10.0, **kw: Any
    ) -> Finding:
        """The first finding of `cause` (about `name`), once the cache has caught up."""
        found = self.wait(lambda r: _pick(r, cause, name), timeout, **kw)
        return found

    def wait(self, check: Callable[[DoctorReport], Any], timeout: float = 10.0, **kw: Any) -> Any:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.report(**kw)
            got = check(last)
            if got:
                return got
            time.sleep(0.05)
        raise AssertionError(f"no such finding; the doctor said: {last!r}")

    def of(self, kind: str, name: str) -> DoctorReport:
        return examine_object(self.cache, kind, name, NAMESPACE)


def _pick(report: DoctorReport, cause: str, name: str | None) -> Finding | None:
    return next(
        (
            f
            for f in report.findings
            if f.cause == cause and (name is None or f.object.name == name)
        ),
        None,
    )


@pytest.fixture
def doctor(kube: KubeEmulator, tmp_path: Path) -> Iterator[Doctor]:
    cluster = cluster_for(kube, tmp_path)
    cache = WatchCache(cluster)
    yield Doctor(cache)
    cache.close()
    cluster.close()


@pytest.fixture
def editor_doctor(kube: KubeEmulator, tmp_path: Path) -> Iterator[Doctor]:
    """The doctor as the notebook's ServiceAccount: kubeflow-edit in its namespace only."""
    cluster = cluster_for(kube, tmp_path, EDITOR_TOKEN)
    cache = WatchCache(cluster)
    yield Doctor(cache)
    cache.close()
    cluster.close()
