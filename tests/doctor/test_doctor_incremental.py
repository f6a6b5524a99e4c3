"""After a change, the doctor works out again only the pods the change touched.

On the real control plane (scheduler, kwok), through the product's WatchCache, one
`Examination` carried from one `examine` to the next, as the doctor's live channel does. After
every change the incremental answer is compared with a whole examination from nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jupyter_mlops.kube.doctor import DoctorReport, Examination, examine
from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.testing.control_plane import CONFIG_ERROR, lifecycle

from .conftest import Namespace
from .test_doctor_real_plane_containers import container, pod
from .test_doctor_real_plane_more import cluster_objects, node  # noqa: F401 (a fixture)

Obj = dict[str, Any]


class Incremental:
    """examine() over one WatchCache, the Examination kept between calls."""

    def __init__(self, namespace: Namespace) -> None:
        self.cache = WatchCache(namespace.cluster())
        self.namespace = namespace.name
        self.examination = Examination()

    def again(self, now: dt.datetime | None = None) -> DoctorReport:
        return examine(self.cache, self.namespace, now=now, examination=self.examination)

    def afresh(self, now: dt.datetime | None = None) -> DoctorReport:
        return examine(self.cache, self.namespace, now=now)

    @property
    def worked_out(self) -> list[str]:
        return self.examination.worked_out

    def until(self, what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.again()
            if check():
                return
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}; last worked out: {self.worked_out}")

    def deleting(self, name: str) -> bool:
        pods = self.cache.objects(self.cache.cluster.kind("pods"), self.namespace)
        return any(
            (p.get("metadata") or {}).get("name") == name
            and (p.get("metadata") or {}).get("deletionTimestamp")
            for p in pods
        )

    def settled(self) -> None:
        """Until a pass works nothing out: the cache has caught up with the plane."""
        self.until("the namespace to settle", lambda: self.worked_out == [])


@pytest.fixture
def doctor(namespace: Namespace) -> Iterator[Incremental]:
    made = Incremental(namespace)
    yield made
    made.cache.close()


def same(a: DoctorReport, b: DoctorReport) -> bool:
    return a.model_dump() == b.model_dump()


def causes(report: DoctorReport) -> set[tuple[str, str]]:
    return {(f.object.name, f.cause) for f in report.findings}


def test_only_the_pod_that_changed_or_whose_config_map_changed_is_worked_out_again(
    namespace: Namespace, doctor: Incremental
) -> None:
    wants = [
        {"name": "PORT", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "port"}}}
    ]
    namespace.kubectl("create", "configmap", "settings", "--from-literal=host=db")
    namespace.apply(
        pod("web", {}),
        pod("picky", {}, nodeSelector={"disk": "nvme-none-has"}),
        pod("app", lifecycle(CONFIG_ERROR), container(env=wants)),
    )
    expected = {("picky", "node-selector-mismatch"), ("app", "missing-configmap-key")}
    doctor.until("both findings", lambda: expected <= causes(doctor.again()))
    doctor.settled()
    assert same(doctor.again(), doctor.afresh())
    assert doctor.worked_out == []

    namespace.kubectl("label", "pod", "web", "tier=front")
    doctor.until("the label to arrive", lambda: doctor.worked_out != [])
    assert doctor.worked_out == ["web"]
    assert same(doctor.again(), doctor.afresh())

    # The ConfigMap is no pod: one pod's rule read it by name, and only that pod is new.
    namespace.kubectl(
        "patch", "configmap", "settings", "--type=merge", "-p", '{"data":{"tls":"on"}}'
    )
    doctor.until("the ConfigMap to arrive", lambda: doctor.worked_out != [])
    assert doctor.worked_out == ["app"]
    report = doctor.again()
    (found,) = [f for f in report.findings if f.cause == "missing-configmap-key"]
    assert found.summary.endswith("has no key port (it has: host, tls).")
    assert same(report, doctor.afresh())


def test_an_answer_that_rests_on_the_clock_is_worked_out_again_when_it_stops_holding(
    namespace: Namespace,
    doctor: Incremental,
    cluster_objects: list[str],  # noqa: F811 (the fixture imported above)
) -> None:
    # A node nobody plays: a deleted pod on it keeps its finalizer, as when no kubelet and no
    # controller is there to finish it (kwok would drop the finalizer).
    quiet = f"quiet-{secrets.token_hex(3)}"
    body = node(quiet, "2", "8Gi")
    body["metadata"]["annotations"] = {}
    namespace.plane.api("POST", "/api/v1/nodes", body)
    cluster_objects.append(f"/api/v1/nodes/{quiet}")
    held = pod("held", {}, nodeName=quiet, terminationGracePeriodSeconds=0)
    held["metadata"]["finalizers"] = ["example.com/keep"]
    namespace.apply(held, pod("web", {}))
    namespace.kubectl("delete", "pod", "held", "--wait=false")
    try:
        deleted = dt.datetime.strptime(
            namespace.get("pod", "held")["metadata"]["deletionTimestamp"], "%Y-%m-%dT%H:%M:%SZ"
        ).replace(tzinfo=dt.timezone.utc)
        doctor.until("the deletion to reach the cache", lambda: doctor.deleting("held"))
        doctor.settled()

        soon = deleted + dt.timedelta(seconds=5)
        assert ("held", "stuck-terminating-finalizers") not in causes(doctor.again(soon))
        assert doctor.again(soon + dt.timedelta(seconds=1)) and doctor.worked_out == []

        late = deleted + dt.timedelta(seconds=40)
        report = doctor.again(late)
        assert doctor.worked_out == ["held"]
        assert ("held", "stuck-terminating-finalizers") in causes(report)
        assert same(report, doctor.afresh(late))
    finally:
        namespace.kubectl(
            "patch", "pod", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}'
        )
