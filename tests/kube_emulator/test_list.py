"""LIST: label and field selectors, paging with continue tokens, versions and 410 Expired."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import PROFILE, pod


@pytest.fixture
def labelled(core: client.CoreV1Api, emulator: KubeEmulator) -> client.CoreV1Api:
    """Four pods with assorted labels; controllers off so nothing else changes them."""
    emulator.controllers = False
    for name, labels in (
        ("a", {"app": "web", "tier": "front"}),
        ("b", {"app": "web", "tier": "back"}),
        ("c", {"app": "db"}),
        ("d", {}),
    ):
        core.create_namespaced_pod(PROFILE, pod(name, labels=labels))
    return core


def _names(items: list[client.V1Pod]) -> list[str]:
    return [item.metadata.name for item in items]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["a", "b"]),
        ("app==web", ["a", "b"]),
        ("app!=web", ["c", "d"]),
        ("app in (web, db)", ["a", "b", "c"]),
        ("app notin (web)", ["c", "d"]),
        ("tier", ["a", "b"]),
        ("!tier", ["c", "d"]),
        ("app=web,tier!=back", ["a"]),
        ("app in (web),tier in (back,side)", ["b"]),
        ("", ["a", "b", "c", "d"]),
    ],
)
def test_label_selectors(labelled: client.CoreV1Api, selector: str, expected: list[str]) -> None:
    listed = labelled.list_namespaced_pod(PROFILE, label_selector=selector)
    assert _names(listed.items) == expected


def test_malformed_label_selector_is_a_bad_request(labelled: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as error:
        labelled.list_namespaced_pod(PROFILE, label_selector="app in web")
    assert error.value.status == 400
    assert json.loads(error.value.body)["reason"] == "BadRequest"


def test_field_selectors(labelled: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.apply({**pod("c", labels={"app": "db"}), "status": {"phase": "Running"}})
    assert _names(
        labelled.list_namespaced_pod(PROFILE, field_selector="metadata.name=b").items
    ) == ["b"]
    assert _names(
        labelled.list_namespaced_pod(PROFILE, field_selector="status.phase=Running").items
    ) == ["c"]
    assert _names(
        labelled.list_namespaced_pod(PROFILE, field_selector="status.phase!=Running").items
    ) == ["a", "b", "d"]
    assert _names(
        labelled.list_pod_for_all_namespaces(
            field_selector=f"metadata.namespace=={PROFILE},metadata.name!=a"
        ).items
    ) == ["b", "c", "d"]
    assert _names(labelled.list_namespaced_pod(PROFILE, field_selector="spec.nodeName=").items) == [
        "a",
        "b",
        "c",
        "d",
    ]
    with pytest.raises(ApiException) as error:
        labelled.list_namespaced_pod(PROFILE, field_selector="spec.image=x")
    assert error.value.status == 400
    assert json.loads(error.value.body)["message"] == "field label not supported: spec.image"


def test_event_field_selectors(core: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.controllers = False
    target = core.create_namespaced_pod(PROFILE, pod("subject"))
    other = core.create_namespaced_pod(PROFILE, pod("other"))
    for subject, reason, message, type_ in (
        (target, "Pulled", "pulled", "Normal"),
        (other, "BackOff", "backing off", "Warning"),
    ):
        about = {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {
                "name": subject.metadata.name,
                "namespace": PROFILE,
                "uid": subject.metadata.uid,
            },
        }
        emulator.record_event(about, reason, message, type_)
    found = core.list_namespaced_event(
        PROFILE,
        field_selector=f"involvedObject.kind=Pod,involvedObject.name=subject,involvedObject.uid={target.metadata.uid}",
    )
    assert [e.reason for e in found.items] == ["Pulled"]
    warnings = core.list_namespaced_event(PROFILE, field_selector="type=Warning")
    assert [e.involved_object.name for e in warnings.items] == ["other"]


def test_list_kind_and_version(labelled: client.CoreV1Api, api: client.ApiClient) -> None:
    raw = api.call_api(
        f"/api/v1/namespaces/{PROFILE}/pods",
        "GET",
        auth_settings=["BearerToken"],
        response_type="object",
        _return_http_data_only=True,
    )
    assert raw["kind"] == "PodList"
    assert raw["apiVersion"] == "v1"
    assert int(raw["metadata"]["resourceVersion"]) > 0


def test_cluster_wide_list(labelled: client.CoreV1Api) -> None:
    labelled.create_namespace({"metadata": {"name": "other"}})
    labelled.create_namespaced_pod("other", pod("z", namespace="other"))
    everywhere = labelled.list_pod_for_all_namespaces()
    assert {(p.metadata.namespace, p.metadata.name) for p in everywhere.items} >= {
        (PROFILE, "a"),
        ("other", "z"),
    }


def test_paging_is_a_consistent_snapshot(
    labelled: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    first = labelled.list_namespaced_pod(PROFILE, limit=2)
    assert _names(first.items) == ["a", "b"]
    assert first.metadata._continue
    assert first.metadata.remaining_item_count == 2
    # Writes between pages do not show: the pages describe the first page's version.
    labelled.delete_namespaced_pod("c", PROFILE)
    labelled.create_namespaced_pod(PROFILE, pod("bb"))
    second = labelled.list_namespaced_pod(PROFILE, limit=2, _continue=first.metadata._continue)
    assert _names(second.items) == ["c", "d"]
    assert not second.metadata._continue
    assert second.metadata.resource_version == first.metadata.resource_version


def test_paging_with_a_selector(labelled: client.CoreV1Api) -> None:
    first = labelled.list_namespaced_pod(PROFILE, limit=1, label_selector="app")
    second = labelled.list_namespaced_pod(
        PROFILE, limit=1, label_selector="app", _continue=first.metadata._continue
    )
    third = labelled.list_namespaced_pod(
        PROFILE, limit=1, label_selector="app", _continue=second.metadata._continue
    )
    assert _names(first.items + second.items + third.items) == ["a", "b", "c"]


def test_expired_continue_token_is_410(core: client.CoreV1Api) -> None:
    with KubeEmulator(history=5, controllers=False) as small:
        small_core = client.CoreV1Api(client.ApiClient(_config(small)))
        for index in range(4):
            small_core.create_namespaced_config_map("default", {"metadata": {"name": f"c{index}"}})
        first = small_core.list_namespaced_config_map("default", limit=2)
        for index in range(10):
            small_core.patch_namespaced_config_map("c0", "default", {"data": {"n": str(index)}})
        with pytest.raises(ApiException) as error:
            small_core.list_namespaced_config_map(
                "default", limit=2, _continue=first.metadata._continue
            )
        body = json.loads(error.value.body)
        assert error.value.status == 410
        assert body["reason"] == "Expired"
        assert body["message"].startswith("The provided continue parameter is too old")
        assert body["metadata"]["continue"]


def test_list_at_an_exact_old_version(core: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.controllers = False
    core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "one"}})
    version = core.list_namespaced_config_map(PROFILE).metadata.resource_version
    core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "two"}})
    at_version = core.list_namespaced_config_map(
        PROFILE, resource_version=version, resource_version_match="Exact"
    )
    assert [c.metadata.name for c in at_version.items] == ["one"]
    assert at_version.metadata.resource_version == version
    latest = core.list_namespaced_config_map(
        PROFILE, resource_version=version, resource_version_match="NotOlderThan"
    )
    assert [c.metadata.name for c in latest.items] == ["one", "two"]


def test_list_at_a_compacted_version_is_410() -> None:
    with KubeEmulator(history=3, controllers=False) as small:
        small_core = client.CoreV1Api(client.ApiClient(_config(small)))
        for index in range(6):
            small_core.create_namespaced_config_map("default", {"metadata": {"name": f"c{index}"}})
        with pytest.raises(ApiException) as error:
            small_core.list_namespaced_config_map(
                "default", resource_version="2", resource_version_match="Exact"
            )
        assert error.value.status == 410
        assert json.loads(error.value.body)["message"].startswith("too old resource version: 2")


def _config(emu: KubeEmulator) -> client.Configuration:
    configuration = client.Configuration()
    configuration.host = emu.url
    configuration.api_key = {"authorization": f"Bearer {emu.admin_token}"}
    return configuration
