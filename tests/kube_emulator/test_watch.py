"""WATCH with the official watch.Watch: events, resume, bookmarks, selectors, 410 Expired."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import requests
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import PROFILE, pod


def _events(stream: Any, count: int) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for event in stream:
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == count:
            break
    return seen


def test_watch_starts_with_current_objects_then_follows_changes(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "existing"}})
    watcher = watch.Watch()
    stream = watcher.stream(core.list_namespaced_config_map, PROFILE, timeout_seconds=10)
    assert _events(stream, 1) == [("ADDED", "existing")]
    core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "new"}})
    core.patch_namespaced_config_map("existing", PROFILE, {"data": {"k": "v"}})
    core.delete_namespaced_config_map("new", PROFILE)
    assert _events(stream, 3) == [("ADDED", "new"), ("MODIFIED", "existing"), ("DELETED", "new")]
    watcher.stop()


def test_helper_writes_from_another_thread_reach_watchers(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    version = core.list_namespaced_config_map(PROFILE).metadata.resource_version
    watcher = watch.Watch()
    stream = watcher.stream(
        core.list_namespaced_config_map, PROFILE, resource_version=version, timeout_seconds=10
    )
    writer = threading.Thread(
        target=lambda: emulator.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "from-thread", "namespace": PROFILE},
            }
        )
    )
    writer.start()
    assert _events(stream, 1) == [("ADDED", "from-thread")]
    writer.join()
    watcher.stop()


def test_resume_from_a_resource_version_replays_what_was_missed(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    first = core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "one"}})
    core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "two"}})
    core.delete_namespaced_config_map("one", PROFILE)
    watcher = watch.Watch()
    stream = watcher.stream(
        core.list_namespaced_config_map,
        PROFILE,
        resource_version=first.metadata.resource_version,
        timeout_seconds=10,
    )
    assert _events(stream, 2) == [("ADDED", "two"), ("DELETED", "one")]
    watcher.stop()


def test_deleted_event_carries_the_deletion_version(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    created = core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "gone"}})
    core.delete_namespaced_config_map("gone", PROFILE)
    watcher = watch.Watch()
    for event in watcher.stream(
        core.list_namespaced_config_map,
        PROFILE,
        resource_version=created.metadata.resource_version,
        timeout_seconds=10,
    ):
        assert event["type"] == "DELETED"
        assert int(event["object"].metadata.resource_version) > int(
            created.metadata.resource_version
        )
        watcher.stop()


def test_expired_resource_version_raises_410() -> None:
    with KubeEmulator(history=3, controllers=False) as small:
        configuration = client.Configuration()
        configuration.host = small.url
        configuration.api_key = {"authorization": "Bearer admin"}
        small_core = client.CoreV1Api(client.ApiClient(configuration))
        for index in range(6):
            small_core.create_namespaced_config_map("default", {"metadata": {"name": f"c{index}"}})
        with pytest.raises(ApiException) as error:
            for _event in watch.Watch().stream(
                small_core.list_namespaced_config_map,
                "default",
                resource_version="2",
                timeout_seconds=5,
            ):
                pytest.fail("no event may arrive for an expired version")
        assert error.value.status == 410
        assert "Expired" in str(error.value.reason)
        # On the wire: HTTP 200, then one ERROR event holding a 410 Status.
        raw = requests.get(
            f"{small.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2",
            headers={"Authorization": "Bearer admin"},
            timeout=10,
        )
        assert raw.status_code == 200
        event = json.loads(raw.text.splitlines()[0])
        assert event["type"] == "ERROR"
        assert event["object"]["code"] == 410
        assert event["object"]["reason"] == "Expired"
        assert event["object"]["message"].startswith("too old resource version: 2")


def test_label_selector_on_watch_turns_leaving_objects_into_deleted(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    core.create_namespaced_pod(PROFILE, pod("p", labels={"app": "web"}))
    core.create_namespaced_pod(PROFILE, pod("q", labels={"app": "db"}))
    watcher = watch.Watch()
    stream = watcher.stream(
        core.list_namespaced_pod, PROFILE, label_selector="app=web", timeout_seconds=10
    )
    assert _events(stream, 1) == [("ADDED", "p")]
    core.patch_namespaced_pod("q", PROFILE, {"metadata": {"labels": {"app": "web"}}})
    core.patch_namespaced_pod("p", PROFILE, {"metadata": {"labels": {"app": "other"}}})
    assert _events(stream, 2) == [("ADDED", "q"), ("DELETED", "p")]
    watcher.stop()


def test_field_selector_on_watch(core: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.controllers = False
    core.create_namespaced_pod(PROFILE, pod("p"))
    core.create_namespaced_pod(PROFILE, pod("q"))
    watcher = watch.Watch()
    stream = watcher.stream(
        core.list_namespaced_pod, PROFILE, field_selector="status.phase=Running", timeout_seconds=10
    )
    core.patch_namespaced_pod_status("q", PROFILE, {"status": {"phase": "Running"}})
    assert _events(stream, 1) == [("ADDED", "q")]
    core.patch_namespaced_pod_status("q", PROFILE, {"status": {"phase": "Succeeded"}})
    assert _events(stream, 1) == [("DELETED", "q")]
    watcher.stop()


def test_bookmarks_arrive_soon_and_carry_the_current_version(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    created = core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "c"}})
    watcher = watch.Watch()
    kinds: list[str] = []
    for event in watcher.stream(
        core.list_namespaced_config_map, PROFILE, allow_watch_bookmarks=True, timeout_seconds=10
    ):
        kinds.append(event["type"])
        if event["type"] == "BOOKMARK":
            assert event["raw_object"]["kind"] == "ConfigMap"
            assert int(event["raw_object"]["metadata"]["resourceVersion"]) >= int(
                created.metadata.resource_version
            )
            watcher.stop()
    assert kinds == ["ADDED", "BOOKMARK"]


def test_timeout_seconds_ends_the_stream(core: client.CoreV1Api) -> None:
    events = list(
        watch.Watch().stream(core.list_namespaced_secret, "kube-public", timeout_seconds=1)
    )
    assert events == []


def test_send_initial_events_ends_with_a_marked_bookmark(emulator: KubeEmulator) -> None:
    emulator.controllers = False
    with requests.get(
        f"{emulator.url}/api/v1/namespaces?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
        "&resourceVersionMatch=NotOlderThan&timeoutSeconds=5",
        headers={"Authorization": "Bearer admin"},
        stream=True,
        timeout=10,
    ) as answer:
        lines = answer.iter_lines()
        added = [json.loads(next(lines)) for _ in range(5)]
        assert [e["type"] for e in added] == ["ADDED"] * 5
        marker = json.loads(next(lines))
        assert marker["type"] == "BOOKMARK"
        assert marker["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_drop_watches_ends_open_streams(core: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.controllers = False
    version = core.list_namespaced_config_map(PROFILE).metadata.resource_version
    response = core.list_namespaced_config_map(
        PROFILE, watch=True, resource_version=version, _preload_content=False
    )
    assert emulator.request_count(verb="watch") == 1
    # Dropping waits for nothing the test controls: the stream simply ends.
    dropped = emulator.drop_watches()
    assert dropped == 1
    assert response.read() == b""
    response.release_conn()


def test_watch_retries_transparently_after_a_drop(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    version = core.list_namespaced_config_map(PROFILE).metadata.resource_version
    watcher = watch.Watch()
    stream = watcher.stream(core.list_namespaced_config_map, PROFILE, resource_version=version)
    core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "before"}})
    assert _events(stream, 1) == [("ADDED", "before")]
    emulator.drop_watches()
    core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "after"}})
    assert _events(stream, 1) == [("ADDED", "after")]
    assert emulator.request_count(verb="watch") == 2
    watcher.stop()
    emulator.drop_watches()


def test_watch_one_object_by_name_path(emulator: KubeEmulator) -> None:
    emulator.controllers = False
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": PROFILE}}
    emulator.create({**config_map, "metadata": {"name": "x", "namespace": PROFILE}})
    with requests.get(
        f"{emulator.url}/api/v1/watch/namespaces/{PROFILE}/configmaps/x",
        headers={"Authorization": "Bearer admin"},
        stream=True,
        timeout=10,
    ) as answer:
        lines = answer.iter_lines()
        first = json.loads(next(lines))
        emulator.create({**config_map, "metadata": {"name": "y", "namespace": PROFILE}})
        emulator.apply(
            {**config_map, "metadata": {"name": "x", "namespace": PROFILE}, "data": {"k": "v"}}
        )
        second = json.loads(next(lines))
    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "x")
    assert (second["type"], second["object"]["metadata"]["name"]) == ("MODIFIED", "x")
