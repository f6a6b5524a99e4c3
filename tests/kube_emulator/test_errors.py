"""Bad requests get real Status answers, never a hang or a traceback; fault controls work."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
from kubernetes import client
from kubernetes.client.rest import ApiException

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import PROFILE, pod

HEADERS = {"Authorization": "Bearer admin"}


def _call(emu: KubeEmulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {**HEADERS, **kwargs.pop("headers", {})}
    return requests.request(method, emu.url + path, headers=headers, timeout=10, **kwargs)


def _status(answer: requests.Response, code: int, reason: str) -> dict[str, Any]:
    assert answer.status_code == code
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert body["kind"] == "Status"
    assert body["apiVersion"] == "v1"
    assert body["status"] == "Failure"
    assert body["code"] == code
    assert body["reason"] == reason
    assert "Traceback" not in answer.text
    return dict(body)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b'"a string"', "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "application/json"),
    ],
)
def test_malformed_bodies_are_bad_requests(
    emulator: KubeEmulator, body: bytes, content_type: str
) -> None:
    answer = _call(
        emulator,
        "POST",
        f"/api/v1/namespaces/{PROFILE}/configmaps",
        data=body,
        headers={"Content-Type": content_type},
    )
    _status(answer, 400, "BadRequest")


def test_kind_and_version_must_match_the_url(emulator: KubeEmulator) -> None:
    answer = _call(
        emulator,
        "POST",
        f"/api/v1/namespaces/{PROFILE}/configmaps",
        json={"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
    )
    body = _status(answer, 400, "BadRequest")
    assert (
        body["message"]
        == "the API version in the data (apps/v1) does not match the expected API version (v1)"
    )
    answer = _call(
        emulator,
        "PUT",
        f"/api/v1/namespaces/{PROFILE}/configmaps/x",
        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y"}},
    )
    assert answer.status_code == 404
    emulator.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": PROFILE}}
    )
    answer = _call(
        emulator,
        "PUT",
        f"/api/v1/namespaces/{PROFILE}/configmaps/x",
        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y"}},
    )
    assert (
        _status(answer, 400, "BadRequest")["message"]
        == "the name of the object (y) does not match the name on the URL (x)"
    )


def test_unknown_resources_and_paths(emulator: KubeEmulator) -> None:
    body = _status(_call(emulator, "GET", "/api/v1/widgets"), 404, "NotFound")
    assert body["message"] == "the server could not find the requested resource"
    _status(_call(emulator, "GET", "/apis/apps/v1/namespaces/x/pods"), 404, "NotFound")
    _status(_call(emulator, "GET", f"/api/v1/namespaces/{PROFILE}/pods/p/exec"), 404, "NotFound")
    answer = _call(emulator, "GET", "/nothing/here")
    assert answer.status_code == 404
    assert answer.text == "404 page not found\n"


def test_methods_a_resource_does_not_serve_are_405(emulator: KubeEmulator) -> None:
    _status(
        _call(emulator, "POST", f"/api/v1/namespaces/{PROFILE}/pods/p", json={}),
        405,
        "MethodNotAllowed",
    )
    _status(
        _call(emulator, "PUT", f"/api/v1/namespaces/{PROFILE}/pods", json={}),
        405,
        "MethodNotAllowed",
    )
    _status(
        _call(emulator, "GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
        405,
        "MethodNotAllowed",
    )


def test_unknown_patch_type_is_415(emulator: KubeEmulator) -> None:
    emulator.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": PROFILE}}
    )
    answer = _call(
        emulator,
        "PATCH",
        f"/api/v1/namespaces/{PROFILE}/configmaps/x",
        data=b"{}",
        headers={"Content-Type": "text/plain"},
    )
    _status(answer, 415, "UnsupportedMediaType")


def test_strategic_merge_is_refused_for_custom_resources(
    emulator: KubeEmulator, api: client.ApiClient
) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "things", "kind": "Thing"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    emulator.create(crd)
    emulator.create(
        {
            "apiVersion": "example.com/v1",
            "kind": "Thing",
            "metadata": {"name": "t", "namespace": PROFILE},
        }
    )
    answer = _call(
        emulator,
        "PATCH",
        f"/apis/example.com/v1/namespaces/{PROFILE}/things/t",
        json={"spec": {}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    body = _status(answer, 415, "UnsupportedMediaType")
    assert "application/merge-patch+json" in body["message"]


def test_bad_query_values_are_bad_requests(emulator: KubeEmulator) -> None:
    _status(
        _call(emulator, "GET", f"/api/v1/namespaces/{PROFILE}/pods?limit=lots"), 400, "BadRequest"
    )
    _status(
        _call(emulator, "GET", f"/api/v1/namespaces/{PROFILE}/pods?continue=%%%"), 400, "BadRequest"
    )
    _status(
        _call(
            emulator,
            "GET",
            f"/api/v1/namespaces/{PROFILE}/pods?resourceVersion=abc&resourceVersionMatch=Exact",
        ),
        400,
        "BadRequest",
    )
    _status(
        _call(emulator, "GET", f"/api/v1/namespaces/{PROFILE}/pods?watch=true&resourceVersion=abc"),
        400,
        "BadRequest",
    )


def test_a_future_resource_version_times_out_as_real(emulator: KubeEmulator) -> None:
    answer = _call(emulator, "GET", f"/api/v1/namespaces/{PROFILE}/pods?resourceVersion=999999999")
    body = _status(answer, 504, "Timeout")
    assert body["message"].startswith("Timeout: Too large resource version: 999999999")


def test_delete_answers_a_success_status_or_the_object(emulator: KubeEmulator) -> None:
    emulator.controllers = False
    emulator.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": PROFILE}}
    )
    answer = _call(emulator, "DELETE", f"/api/v1/namespaces/{PROFILE}/configmaps/x")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["kind"], body["status"]) == ("Status", "Success")
    assert body["details"]["name"] == "x"
    assert body["details"]["kind"] == "configmaps"
    emulator.create(pod("p"))
    answer = _call(emulator, "DELETE", f"/api/v1/namespaces/{PROFILE}/pods/p")
    assert answer.json()["kind"] == "Pod"


def test_protected_namespaces_cannot_be_deleted(emulator: KubeEmulator) -> None:
    body = _status(_call(emulator, "DELETE", "/api/v1/namespaces/default"), 403, "Forbidden")
    assert body["message"] == 'namespaces "default" is forbidden: this namespace may not be deleted'


def test_fail_next_injects_statuses_then_recovers(
    emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    emulator.fail_next(2, 503)
    for _ in range(2):
        with pytest.raises(ApiException) as error:
            core.list_namespaced_pod(PROFILE)
        assert error.value.status == 503
    assert core.list_namespaced_pod(PROFILE).items == []
    emulator.fail_next(1, 500)
    answer = _call(emulator, "GET", f"/api/v1/namespaces/{PROFILE}/pods")
    assert (
        _status(answer, 500, "InternalError")["message"]
        == "Internal error occurred: injected failure"
    )


def test_latency_delays_requests_without_failing_them(
    emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    emulator.latency = 0.05
    assert core.list_namespaced_pod(PROFILE).items == []
    emulator.latency = 0.0


def test_request_counts(emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    emulator.reset_requests()
    core.list_namespaced_pod(PROFILE)
    core.list_namespaced_pod(PROFILE)
    core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "c"}})
    core.read_namespaced_config_map("c", PROFILE)
    assert emulator.request_count(verb="list") == 2
    assert (
        emulator.request_count(verb="list", path_prefix=f"/api/v1/namespaces/{PROFILE}/pods") == 2
    )
    assert emulator.request_count(verb="create") == 1
    assert emulator.request_count(verb="get", path_prefix="/api/v1/namespaces") == 1
    assert emulator.request_count(method="POST") == 1
    assert emulator.request_count() == 4


def test_a_client_that_vanishes_mid_watch_does_not_disturb_the_server(
    emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    with socket.create_connection((emulator.host, emulator.port)) as raw:
        raw.sendall(
            f"GET /api/v1/namespaces/{PROFILE}/pods?watch=true HTTP/1.1\r\n"
            "Host: x\r\nAuthorization: Bearer admin\r\n\r\n".encode()
        )
        assert raw.recv(12).startswith(b"HTTP/1.1 200")
    core.create_namespaced_pod(PROFILE, pod("after"))
    assert [p.metadata.name for p in core.list_namespaced_pod(PROFILE).items] == ["after"]


def test_control_api_appends_logs_and_injects_faults(
    emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    emulator.controllers = False
    emulator.create({**pod("p"), "status": {"phase": "Running"}})
    answer = requests.post(
        f"{emulator.url}/_emulator/logs/{PROFILE}/p/main", data="one\ntwo\n", timeout=10
    )
    assert answer.json() == {"appended": 2}
    assert core.read_namespaced_pod_log("p", PROFILE) == "one\ntwo\n"
    requests.post(f"{emulator.url}/_emulator/fail-next", json={"count": 1, "code": 429}, timeout=10)
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod(PROFILE)
    assert error.value.status == 429
    counted = requests.get(
        f"{emulator.url}/_emulator/requests", params={"verb": "list"}, timeout=10
    ).json()
    assert counted == {"count": 1}
    requests.post(
        f"{emulator.url}/_emulator/tokens",
        json={
            "token": "t",
            "user": "u",
            "rules": [
                {
                    "verbs": ["list"],
                    "resources": ["pods"],
                    "apiGroups": [""],
                    "namespaces": [PROFILE],
                }
            ],
        },
        timeout=10,
    )
    listed = requests.get(
        f"{emulator.url}/api/v1/namespaces/{PROFILE}/pods",
        headers={"Authorization": "Bearer t"},
        timeout=10,
    )
    assert listed.status_code == 200
    applied = requests.post(
        f"{emulator.url}/_emulator/objects",
        json={**pod("q"), "status": {"phase": "Succeeded"}},
        timeout=10,
    ).json()
    assert applied["status"]["phase"] == "Succeeded"
    assert (
        requests.post(f"{emulator.url}/_emulator/logs/bad", data="x", timeout=10).status_code == 404
    )


def test_control_api_finishes_and_restarts_pods(
    emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    emulator.controllers = False
    running = {
        "name": "main",
        "ready": True,
        "restartCount": 0,
        "image": "python:3.11",
        "imageID": "",
    }
    emulator.create({**pod("p"), "status": {"phase": "Running", "containerStatuses": [running]}})
    base = f"{emulator.url}/_emulator/pods/{PROFILE}/p"
    restarted = requests.post(f"{base}/containers/main/restart?exitCode=137", timeout=10).json()
    assert restarted["status"]["containerStatuses"][0]["restartCount"] == 1
    finished = requests.post(f"{base}/finish?exitCode=0", timeout=10).json()
    assert finished["status"]["phase"] == "Succeeded"
    assert core.read_namespaced_pod("p", PROFILE).status.phase == "Succeeded"
    missing = requests.post(f"{emulator.url}/_emulator/pods/{PROFILE}/ghost/finish", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["message"] == 'pods "ghost" not found'
