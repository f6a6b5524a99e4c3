"""Container logs on the real control plane: the kube-apiserver proxies `pods/log` to kwok's
kubelet endpoint, which reads the files kwok's Logs object names for the pod
(`ControlPlane.log_file`). kubectl and the product's `Cluster.logs` read the same streams:
current and previous container, follow, tail, since, timestamps.
"""

from __future__ import annotations

import datetime as dt
import queue
import subprocess
import threading
from collections.abc import Iterable, Iterator

import pytest

from jupyter_mlops.errors import BadInput
from jupyter_mlops.testing.control_plane import cri_line

from .conftest import Namespace, wait_for
from .manifests import container, pod

FOLLOW_TIMEOUT = 20.0


class Lines:
    """Lines another thread reads from a stream, taken as they come."""

    def __init__(self, source: Iterable[str]) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(source,), daemon=True)
        self._thread.start()

    def _read(self, source: Iterable[str]) -> None:
        try:
            for line in source:
                self._queue.put(line.rstrip("\n"))
        finally:
            self._queue.put(None)

    def take(self, count: int) -> list[str]:
        got = []
        for _ in range(count):
            line = self._queue.get(timeout=FOLLOW_TIMEOUT)
            assert line is not None, f"the stream ended after {got}"
            got.append(line)
        return got

    def ended(self, timeout: float = FOLLOW_TIMEOUT) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


@pytest.fixture
def running(namespace: Namespace) -> Iterator[str]:
    """A running pod whose container `main` has printed two lines."""
    namespace.plane.append_log(namespace.name, "trainer", "main", "epoch 1 loss 0.9", "epoch 2")
    namespace.apply(pod("trainer"))
    wait_for(
        "the pod to run",
        lambda: namespace.get("pod", "trainer")["status"].get("phase") == "Running",
    )
    yield "trainer"


def kubectl_follow(ns: Namespace, *args: str) -> subprocess.Popen[str]:
    argv = [str(ns.plane.bin_dir / "kubectl"), f"--kubeconfig={ns.kubeconfig}", "logs", "-f"]
    return subprocess.Popen([*argv, *args], stdout=subprocess.PIPE, text=True)


# -- kubectl ---------------------------------------------------------------------------------


def test_kubectl_logs_prints_the_containers_lines(namespace: Namespace, running: str) -> None:
    assert namespace.kubectl("logs", running).stdout == "epoch 1 loss 0.9\nepoch 2\n"
    assert namespace.kubectl("logs", running, "--tail=1").stdout == "epoch 2\n"


def test_kubectl_logs_follow_prints_lines_written_after_it_started(
    namespace: Namespace, running: str
) -> None:
    follow = kubectl_follow(namespace, running)
    try:
        assert follow.stdout is not None
        lines = Lines(follow.stdout)
        assert lines.take(2) == ["epoch 1 loss 0.9", "epoch 2"]
        namespace.plane.append_log(namespace.name, running, "main", "epoch 3", "epoch 4")
        assert lines.take(2) == ["epoch 3", "epoch 4"]
    finally:
        follow.kill()
        follow.wait()
        if follow.stdout is not None:
            follow.stdout.close()


def test_kubectl_logs_previous_prints_the_run_before(namespace: Namespace, running: str) -> None:
    plane = namespace.plane
    plane.append_log(namespace.name, running, "main", "Traceback (most recent call last):")
    plane.append_log(namespace.name, running, "main", "OSError: disk full", previous=True)

    assert namespace.kubectl("logs", running, "--previous").stdout == "OSError: disk full\n"


def test_a_pod_without_a_log_of_its_own_prints_nothing(namespace: Namespace) -> None:
    namespace.apply(pod("quiet"))
    wait_for("the pod to run", lambda: namespace.get("pod", "quiet")["status"].get("podIP"))

    assert namespace.kubectl("logs", "quiet").stdout == ""
    # kwok, unlike a kubelet, cannot tell that no run ended: it says it has no such file.
    previous = namespace.kubectl("logs", "quiet", "--previous", check=False)
    assert previous.returncode != 0
    assert "no-previous-terminated-container" in previous.stderr


# -- the product -----------------------------------------------------------------------------


def test_the_product_reads_the_log_kubectl_prints(namespace: Namespace, running: str) -> None:
    cluster = namespace.cluster()

    assert list(cluster.logs(running)) == namespace.kubectl("logs", running).stdout.splitlines()
    assert list(cluster.logs(running, tail=1)) == ["epoch 2"]


def test_the_product_reads_the_previous_log(namespace: Namespace, running: str) -> None:
    namespace.plane.append_log(namespace.name, running, "main", "Killed", previous=True)

    lines = list(namespace.cluster().logs(running, "main", previous=True))
    assert lines == ["Killed"] == namespace.kubectl("logs", running, "-p").stdout.splitlines()


def test_the_product_follows_lines_written_after_it_started(
    namespace: Namespace, running: str
) -> None:
    stream = namespace.cluster().logs(running, follow=True)
    lines = Lines(stream)
    try:
        assert lines.take(2) == ["epoch 1 loss 0.9", "epoch 2"]
        namespace.plane.append_log(namespace.name, running, "main", "epoch 3")
        assert lines.take(1) == ["epoch 3"]
        namespace.plane.append_log(namespace.name, running, "main", "epoch 4", "done")
        assert lines.take(2) == ["epoch 4", "done"]
    finally:
        stream.close()
    # Closed from this thread, the follow ends in the reading one.
    assert lines.ended()


def test_since_and_timestamps_read_the_runtimes_times(namespace: Namespace) -> None:
    plane = namespace.plane
    now = dt.datetime.now(dt.timezone.utc)
    path = plane.log_file(namespace.name, "old", "main")
    path.write_text(
        cri_line("yesterday's line", when=now - dt.timedelta(days=1))
        + cri_line("today's line", when=now)
    )
    namespace.apply(pod("old"))
    wait_for("the pod to run", lambda: namespace.get("pod", "old")["status"].get("podIP"))
    cluster = namespace.cluster()

    assert list(cluster.logs("old", since="1h")) == ["today's line"]
    assert namespace.kubectl("logs", "old", "--since=1h").stdout == "today's line\n"
    stamped = list(cluster.logs("old", timestamps=True))
    assert stamped == namespace.kubectl("logs", "old", "--timestamps").stdout.splitlines()
    assert stamped[1] == f"{now.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z today's line"


def test_each_container_of_a_pod_has_its_own_log(namespace: Namespace) -> None:
    plane = namespace.plane
    plane.append_log(namespace.name, "pair", "web", "GET / 200")
    plane.append_log(namespace.name, "pair", "sidecar", "synced 3 files", stream="stderr")
    namespace.apply(pod("pair", container("web"), container("sidecar")))
    wait_for("the pod to run", lambda: namespace.get("pod", "pair")["status"].get("podIP"))
    cluster = namespace.cluster()

    assert list(cluster.logs("pair", "web")) == ["GET / 200"]
    assert list(cluster.logs("pair", "sidecar")) == ["synced 3 files"]
    assert namespace.kubectl("logs", "pair", "-c", "sidecar").stdout == "synced 3 files\n"
    # The API server asks which one, naming them (kubectl picks the first one itself).
    with pytest.raises(BadInput) as which:
        cluster.logs("pair")
    assert str(which.value) == (
        "a container name must be specified for pod pair, choose one of: [web sidecar]"
    )
    raw = f"/api/v1/namespaces/{namespace.name}/pods/pair/log"
    assert str(which.value) in namespace.kubectl("get", "--raw", raw, check=False).stderr
    assert 'Defaulted container "web"' in namespace.kubectl("logs", "pair").stderr


def test_a_container_the_pod_does_not_have_is_named_with_those_it_has(
    namespace: Namespace,
) -> None:
    namespace.apply(
        pod("pair", container("web"), container("sidecar"), initContainers=[container("setup")])
    )
    wait_for("the pod to run", lambda: namespace.get("pod", "pair")["status"].get("podIP"))

    with pytest.raises(BadInput) as missing:
        namespace.cluster().logs("pair", "worker")
    assert str(missing.value) == (
        "pod pair has no container worker (its containers: web, sidecar; init containers: setup)"
    )
    # kubectl says only that it is not valid.
    refused = namespace.kubectl("logs", "pair", "-c", "worker", check=False)
    assert "container worker is not valid for pod pair" in refused.stderr


def test_a_namespace_made_again_under_its_name_starts_with_empty_logs(
    namespace: Namespace,
) -> None:
    """Logs belong to the namespace, not its name: a later test's namespace of the same name
    (as the browser modules make `team-a` each) sees neither the old lines nor none at all."""
    plane, name = namespace.plane, f"{namespace.name}-again"
    for line in ("from the first namespace", "from the second namespace"):
        plane.api("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
        wait_for(
            "its default ServiceAccount",
            lambda: plane.kubectl("-n", name, "get", "sa", "default", check=False).returncode == 0,
        )
        plane.append_log(name, "trainer", "main", line)
        plane.api("POST", f"/api/v1/namespaces/{name}/pods", pod("trainer"))
        wait_for(
            "the pod Running",
            lambda: (
                plane.kubectl(
                    "-n", name, "get", "pod", "trainer", "-o", "jsonpath={.status.phase}"
                ).stdout
                == "Running"
            ),
        )
        assert plane.kubectl("-n", name, "logs", "trainer").stdout == f"{line}\n"
        plane.api("DELETE", f"/api/v1/namespaces/{name}")
        wait_for(
            "the namespace gone",
            lambda: plane.kubectl("get", "ns", name, check=False).returncode != 0,
            timeout=60,
        )
