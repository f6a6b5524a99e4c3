"""pods/log: tail, since, timestamps, container choice, previous, follow and large volumes."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import PROFILE, pod


@pytest.fixture
def running(core: client.CoreV1Api, emulator: KubeEmulator) -> client.CoreV1Api:
    """Running pods: "one" with one container, "two" with two (and an init container)."""
    emulator.controllers = False
    emulator.create({**pod("one"), "status": {"phase": "Running"}})
    two = pod(
        "two",
        containers=[{"name": "app", "image": "python:3.11"}, {"name": "proxy", "image": "envoy:1"}],
        initContainers=[{"name": "setup", "image": "busybox:1"}],
    )
    emulator.create({**two, "status": {"phase": "Running"}})
    return core


def test_whole_log_and_tail(running: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.append_log(PROFILE, "one", "main", [f"line {n}" for n in range(1, 6)])
    emulator.append_log(PROFILE, "one", "main", "line 6\nline 7\n")
    assert running.read_namespaced_pod_log("one", PROFILE) == "".join(
        f"line {n}\n" for n in range(1, 8)
    )
    assert (
        running.read_namespaced_pod_log("one", PROFILE, tail_lines=3) == "line 5\nline 6\nline 7\n"
    )
    assert running.read_namespaced_pod_log("one", PROFILE, tail_lines=0) == ""


def test_since_seconds_keeps_recent_lines(
    running: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.logs.append(PROFILE, "one", "main", ["old"], at=time.time() - 3600)
    emulator.append_log(PROFILE, "one", "main", ["new"])
    assert running.read_namespaced_pod_log("one", PROFILE, since_seconds=60) == "new\n"
    assert running.read_namespaced_pod_log("one", PROFILE, since_seconds=7200) == "old\nnew\n"


def test_timestamps_prefix_each_line(running: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.append_log(PROFILE, "one", "main", ["a", "b"])
    text = running.read_namespaced_pod_log("one", PROFILE, timestamps=True)
    lines = text.splitlines()
    assert len(lines) == 2
    for line, content in zip(lines, ["a", "b"], strict=True):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z " + content, line)


def test_container_is_required_when_a_pod_has_several(
    running: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.append_log(PROFILE, "two", "proxy", ["proxy up"])
    with pytest.raises(ApiException) as error:
        running.read_namespaced_pod_log("two", PROFILE)
    body = json.loads(error.value.body)
    assert error.value.status == 400
    assert body["reason"] == "BadRequest"
    assert body["message"] == (
        "a container name must be specified for pod two, choose one of: [app proxy] "
        "or one of the init containers: [setup]"
    )
    assert running.read_namespaced_pod_log("two", PROFILE, container="proxy") == "proxy up\n"
    with pytest.raises(ApiException) as error:
        running.read_namespaced_pod_log("two", PROFILE, container="nope")
    assert json.loads(error.value.body)["message"] == "container nope is not valid for pod two"


def test_previous_reads_the_last_terminated_run(
    running: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    with pytest.raises(ApiException) as error:
        running.read_namespaced_pod_log("one", PROFILE, previous=True)
    assert error.value.status == 400
    assert (
        json.loads(error.value.body)["message"]
        == 'previous terminated container "main" in pod "one" not found'
    )
    emulator.append_log(PROFILE, "one", "main", ["crashed"], previous=True)
    emulator.append_log(PROFILE, "one", "main", ["restarted"])
    assert running.read_namespaced_pod_log("one", PROFILE, previous=True) == "crashed\n"
    assert running.read_namespaced_pod_log("one", PROFILE) == "restarted\n"


def test_a_restart_moves_the_log_to_previous(
    running: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    status = {
        "name": "main",
        "ready": True,
        "restartCount": 0,
        "image": "python:3.11",
        "imageID": "",
        "state": {"running": {}},
    }
    running.patch_namespaced_pod_status("one", PROFILE, {"status": {"containerStatuses": [status]}})
    emulator.append_log(PROFILE, "one", "main", ["first run"])
    running.patch_namespaced_pod_status(
        "one", PROFILE, {"status": {"containerStatuses": [{**status, "restartCount": 1}]}}
    )
    emulator.append_log(PROFILE, "one", "main", ["second run"])
    assert running.read_namespaced_pod_log("one", PROFILE, previous=True) == "first run\n"
    assert running.read_namespaced_pod_log("one", PROFILE) == "second run\n"


def test_log_of_a_missing_pod_is_404(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod_log("ghost", PROFILE)
    assert error.value.status == 404
    assert json.loads(error.value.body)["message"] == 'pods "ghost" not found'


def test_waiting_container_has_no_log_yet(core: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.controllers = False
    waiting = {
        "name": "main",
        "ready": False,
        "restartCount": 0,
        "image": "python:3.11",
        "imageID": "",
        "state": {"waiting": {"reason": "ContainerCreating"}},
    }
    emulator.create({**pod("slow"), "status": {"phase": "Pending", "containerStatuses": [waiting]}})
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod_log("slow", PROFILE)
    assert json.loads(error.value.body)["message"] == (
        'container "main" in pod "slow" is waiting to start: ContainerCreating'
    )


def test_limit_bytes(running: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.append_log(PROFILE, "one", "main", ["0123456789"] * 3)
    assert running.read_namespaced_pod_log("one", PROFILE, limit_bytes=15) == "0123456789\n0123"


def test_follow_streams_new_lines_and_ends_when_the_container_terminates(
    running: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.append_log(PROFILE, "one", "main", ["before"])
    received: list[str] = []
    stream = watch.Watch().stream(running.read_namespaced_pod_log, "one", PROFILE, follow=True)
    received.append(next(stream))
    emulator.append_log(PROFILE, "one", "main", ["during 1", "during 2"])
    received.append(next(stream))
    received.append(next(stream))
    terminated = {
        "name": "main",
        "ready": False,
        "restartCount": 0,
        "image": "python:3.11",
        "imageID": "",
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    emulator.append_log(PROFILE, "one", "main", ["last words"])
    running.patch_namespaced_pod_status(
        "one", PROFILE, {"status": {"phase": "Succeeded", "containerStatuses": [terminated]}}
    )
    received += list(stream)
    assert received == ["before", "during 1", "during 2", "last words"]


def test_follow_ends_when_the_pod_is_deleted(
    running: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.append_log(PROFILE, "one", "main", ["hello"])
    stream = watch.Watch().stream(running.read_namespaced_pod_log, "one", PROFILE, follow=True)
    assert next(stream) == "hello"
    running.delete_namespaced_pod("one", PROFILE)
    assert list(stream) == []


def test_follow_with_tail_starts_from_the_end(
    running: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.append_log(PROFILE, "one", "main", [str(n) for n in range(100)])
    stream = watch.Watch().stream(
        running.read_namespaced_pod_log, "one", PROFILE, follow=True, tail_lines=2
    )
    assert [next(stream), next(stream)] == ["98", "99"]
    emulator.append_log(PROFILE, "one", "main", ["100"])
    assert next(stream) == "100"
    running.delete_namespaced_pod("one", PROFILE)
    assert list(stream) == []


def test_a_large_log_streams_completely(running: client.CoreV1Api, emulator: KubeEmulator) -> None:
    total = 200_000
    emulator.append_log(PROFILE, "one", "main", [f"step {n} loss=0.{n:06d}" for n in range(total)])
    response = running.read_namespaced_pod_log("one", PROFILE, follow=True, _preload_content=False)
    appender = threading.Thread(
        target=lambda: emulator.append_log(PROFILE, "one", "main", ["tail line"])
    )
    appender.start()
    lines = 0
    last = b""
    for chunk in response.stream(1 << 20):
        lines += chunk.count(b"\n")
        last = (last + chunk)[-64:]
        if lines == total + 1:
            break
    appender.join()
    response.release_conn()
    assert lines == total + 1
    assert last.endswith(b"tail line\n")


def test_since_time(running: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.logs.append(PROFILE, "one", "main", ["old"], at=time.time() - 3600)
    emulator.append_log(PROFILE, "one", "main", ["new"])
    half_hour_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1800))
    raw = running.api_client.call_api(
        f"/api/v1/namespaces/{PROFILE}/pods/one/log",
        "GET",
        query_params=[("sinceTime", half_hour_ago)],
        auth_settings=["BearerToken"],
        _preload_content=False,
    )[0]
    assert raw.data == b"new\n"
