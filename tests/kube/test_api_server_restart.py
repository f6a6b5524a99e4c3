"""The watch cache across a restart of the real API server, and a followed log whose API
server goes away.

These tests stop and start kube-apiserver, so they run on a control plane of their own (the
session's is shared): it starts once for this module and is stopped after it.
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.testing.control_plane import ControlPlane, NotBuilt, _Process
from jupyter_mlops.widgets.logs import LogView
from tests.plane import Namespace, wait_for

from .helpers import exists, pod, running
from .test_watch_cache import WAIT, View


class RestartablePlane:
    """A control plane whose API server the tests may stop and start again (same port, same
    etcd), as a crash of the API server would."""

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self._argv: list[str] = []

    def _process(self, name: str) -> _Process:
        return next(p for p in self.plane._procs if p.name == name)

    def stop_apiserver(self) -> None:
        proc = self._process("kube-apiserver")
        self._argv = [str(a) for a in proc.popen.args]  # type: ignore[union-attr]
        proc.kill(grace=0.5)
        self.plane._procs.remove(proc)

    def running(self) -> bool:
        return any(p.name == "kube-apiserver" and p.alive() for p in self.plane._procs)

    def start_apiserver(self) -> None:
        self.plane._spawn("kube-apiserver", *self._argv[1:])
        wait_for("the API server to be ready again", self._ready, WAIT)

    def _ready(self) -> bool:
        try:
            return self.plane._ready()
        except OSError:  # not listening yet
            return False

    def write_to_etcd(self) -> None:
        """One write to etcd behind the API server's back, so its revision moves on."""
        etcd = self._process("etcd")
        url = next(
            m.group(1)
            for a in etcd.popen.args  # type: ignore[union-attr]
            if (m := re.match(r"--listen-client-urls=(\S+)", str(a)))
        )
        key = base64.b64encode(f"/test/{secrets.token_hex(4)}".encode()).decode()
        body = json.dumps({"key": key, "value": base64.b64encode(b"x").decode()}).encode()
        request = urllib.request.Request(f"{url}/v3/kv/put", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200


@pytest.fixture(scope="module")
def own_plane() -> Iterator[RestartablePlane]:
    try:
        plane = ControlPlane()
    except NotBuilt as exc:
        pytest.fail(str(exc), pytrace=False)
    with plane:
        yield RestartablePlane(plane)


@pytest.fixture
def restartable(own_plane: RestartablePlane, tmp_path: Path) -> Iterator[Namespace]:
    """A namespace on the module's plane, its API server running (started again if a test
    before left it stopped; one that leaves it stopped leaves its namespace to the plane)."""
    plane = own_plane.plane
    if not own_plane.running():
        own_plane.start_apiserver()
    name = f"t-{secrets.token_hex(4)}"
    plane.api(
        "POST",
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    ns = Namespace(plane, name, tmp_path)
    try:
        # Pods are refused until the ServiceAccount controller has made `default`, which takes
        # longer while it reconnects after a restart.
        wait_for(
            "the default ServiceAccount", lambda: exists(ns, "serviceaccount", "default"), WAIT
        )
        yield ns
    finally:
        ns.close()
        if own_plane.running():
            plane.api("DELETE", f"/api/v1/namespaces/{name}")


def test_an_api_server_restart_loses_and_doubles_nothing(
    own_plane: RestartablePlane, restartable: Namespace
) -> None:
    ns = restartable
    ns.apply(pod("keep"), pod("gone"))
    cluster = ns.cluster()
    cache = WatchCache(cluster)
    view = View(cache, ns.name)
    assert view.names() == {"keep", "gone"}
    informer = cache.informers()[0]

    own_plane.stop_apiserver()
    wait_for("the informer to report the lost API server", lambda: informer.error, WAIT)
    # The restarted API server's watch cache starts at etcd's revision, so a version from
    # before is too old for it: the informer's watch is answered 410 Gone, and it relists.
    # (Written behind the API server's back, so that revision has surely moved on.)
    own_plane.write_to_etcd()
    own_plane.start_apiserver()
    ns.apply(*(pod(f"new-{i}") for i in range(10)))
    ns.kubectl("delete", "pod", "gone", "--wait=false")

    wait_for("a relist", lambda: informer.counters.relists >= 1, WAIT)
    wait_for(
        "the view to catch up",
        lambda: view.names() == {"keep"} | {f"new-{i}" for i in range(10)},
        WAIT,
    )
    assert view.duplicates == 0
    wait_for("the error to clear", lambda: informer.error is None, WAIT)
    cache.close()


def test_a_broken_follow_shows_why(own_plane: RestartablePlane, restartable: Namespace) -> None:
    ns = restartable
    ns.plane.append_log(ns.name, "trainer-0", "main", "epoch 1")
    ns.apply(pod("trainer-0"))
    running(ns, "trainer-0")
    view = LogView(ns.cluster().logs("trainer-0", follow=True), pod="trainer-0")
    view.start()
    try:
        wait_for("the first line", lambda: view.received >= 1, WAIT)

        own_plane.stop_apiserver()

        assert view.wait(WAIT)
        assert not view.following
        assert view.lines == ["epoch 1"]
        assert view.error.startswith(f"the stream from {ns.plane.url} broke")
        assert html.escape(view.error) in view.header.value
    finally:
        view.stop()
