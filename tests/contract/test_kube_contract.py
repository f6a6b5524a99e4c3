"""The Kubernetes emulator's claims, held to the real kube-apiserver's answers.

Each test runs twice, with the same requests: against the real control plane (the reference)
and against the Python emulator that serves the demo. An expectation that the real server
does not meet is a wrong test; one that only the emulator misses is an emulator defect. The
capabilities covered are the ones `jupyter_mlops/testing/README.md` says the emulator has.
"""

from __future__ import annotations

import json
import secrets
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kube import KubeEmulator
from tests.plane import wait_for

Obj = dict[str, Any]
T = TypeVar("T")
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
APPLY = "application/apply-patch+yaml"


@dataclass
class Api:
    """Plain HTTP to one API server as its administrator, in one fresh namespace."""

    url: str
    token: str
    context: ssl.SSLContext | None
    namespace: str = ""

    def call(
        self,
        method: str,
        path: str,
        body: Obj | None = None,
        *,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> tuple[int, Obj]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": content_type,
                "Accept": accept,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=15, context=self.context) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def ok(self, method: str, path: str, body: Obj | None = None, **kw: str) -> Obj:
        status, answer = self.call(method, path, body, **kw)
        assert status < 300, (status, answer.get("message"), answer)
        return answer

    def ns(self, resource: str, name: str = "", group: str = "") -> str:
        """The path of a namespaced resource in this test's namespace."""
        root = f"/apis/{group}" if group else "/api/v1"
        return f"{root}/namespaces/{self.namespace}/{resource}" + (f"/{name}" if name else "")

    def watch(self, path: str, seconds: float = 5.0) -> Iterator[Obj]:
        """The events of a watch, until the server ends it after `seconds`."""
        sep = "&" if "?" in path else "?"
        request = urllib.request.Request(
            f"{self.url}{path}{sep}watch=true&timeoutSeconds={int(seconds)}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=seconds + 10, context=self.context) as r:
            for line in r:
                if line.strip():
                    yield json.loads(line)


@pytest.fixture(scope="module")
def emulator() -> Iterator[KubeEmulator]:
    # Three nodes of 4 CPUs, as the plane's CPU nodes and GPU node hold 4 + 4 + 8.
    with KubeEmulator(port=0, nodes=3, bookmark_interval=1.0) as emu:
        yield emu


@pytest.fixture(params=["real", "emulator"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    if request.param == "real":
        plane: ControlPlane = request.getfixturevalue("control_plane")
        server = Api(plane.url, plane.token, ssl.create_default_context(cafile=str(plane.ca_file)))
    else:
        emu: KubeEmulator = request.getfixturevalue("emulator")
        server = Api(emu.url, emu.admin_token, None)
    server.namespace = f"c-{secrets.token_hex(4)}"
    server.ok("POST", "/api/v1/namespaces", {"metadata": {"name": server.namespace}})
    yield server
    server.call("DELETE", f"/api/v1/namespaces/{server.namespace}")


def pod(name: str, **spec: Any) -> Obj:
    containers = [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": spec or {"containers": containers},
    }


def config_map(name: str, **metadata: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **metadata}}


def deployment(name: str, replicas: int) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
            },
        },
    }


# -- objects and errors ----------------------------------------------------------------------


def test_create_with_generate_name_fills_in_the_metadata(api: Api) -> None:
    made = api.ok("POST", api.ns("configmaps"), {"metadata": {"generateName": "cfg-"}})
    meta = made["metadata"]
    assert meta["name"].startswith("cfg-") and len(meta["name"]) == len("cfg-") + 5
    assert meta["namespace"] == api.namespace
    assert meta["uid"] and int(meta["resourceVersion"]) > 0 and meta["creationTimestamp"]


def test_errors_are_status_objects_worded_as_the_real_server(api: Api) -> None:
    status, missing = api.call("GET", api.ns("pods", "nope"))
    assert status == 404
    assert (missing["kind"], missing["reason"], missing["code"]) == ("Status", "NotFound", 404)
    assert missing["message"] == 'pods "nope" not found'
    assert missing["details"] == {"name": "nope", "kind": "pods"}

    api.ok("POST", api.ns("configmaps"), config_map("twice"))
    status, again = api.call("POST", api.ns("configmaps"), config_map("twice"))
    assert (status, again["reason"]) == (409, "AlreadyExists")
    assert again["message"] == 'configmaps "twice" already exists'

    status, invalid = api.call("POST", api.ns("pods"), pod("empty", containers=[]))
    assert (status, invalid["reason"]) == (422, "Invalid")
    fields = {cause["field"] for cause in invalid["details"]["causes"]}
    assert "spec.containers" in fields


def test_a_stale_resource_version_is_a_conflict(api: Api) -> None:
    made = api.ok("POST", api.ns("configmaps"), config_map("cfg"))
    api.ok("PUT", api.ns("configmaps", "cfg"), {**made, "data": {"a": "1"}})
    status, conflict = api.call("PUT", api.ns("configmaps", "cfg"), {**made, "data": {"a": "2"}})
    assert (status, conflict["reason"]) == (409, "Conflict")
    assert "the object has been modified; please apply your changes" in conflict["message"]


def test_selectors_and_pages(api: Api) -> None:
    for i in range(5):
        labels = {"tier": "web" if i % 2 else "db"}
        api.ok("POST", api.ns("configmaps"), config_map(f"cfg-{i}", labels=labels))
    web = api.ok("GET", api.ns("configmaps") + "?labelSelector=tier%3Dweb")
    assert [i["metadata"]["name"] for i in web["items"]] == ["cfg-1", "cfg-3"]
    one = api.ok("GET", api.ns("configmaps") + "?fieldSelector=metadata.name%3Dcfg-2")
    assert [i["metadata"]["name"] for i in one["items"]] == ["cfg-2"]

    # With a selector the server cannot count what is left; without one it does.
    first = api.ok("GET", api.ns("configmaps") + "?labelSelector=tier&limit=2")
    assert len(first["items"]) == 2
    assert "remainingItemCount" not in first["metadata"]
    names = [i["metadata"]["name"] for i in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        page = api.ok("GET", api.ns("configmaps") + f"?labelSelector=tier&limit=2&continue={token}")
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
    everything = api.ok("GET", api.ns("configmaps"))["items"]
    unfiltered = api.ok("GET", api.ns("configmaps") + "?limit=2")
    assert unfiltered["metadata"]["remainingItemCount"] == len(everything) - 2
    assert names == [f"cfg-{i}" for i in range(5)]


def test_watch_from_a_list_sees_each_change_in_order(api: Api) -> None:
    listed = api.ok("GET", api.ns("configmaps"))
    api.ok("POST", api.ns("configmaps"), config_map("w"))
    patch = {"data": {"k": "v"}}
    api.ok("PATCH", api.ns("configmaps", "w"), patch, content_type="application/merge-patch+json")
    api.call("DELETE", api.ns("configmaps", "w"))
    rv = listed["metadata"]["resourceVersion"]
    seen = []
    for event in api.watch(api.ns("configmaps") + f"?resourceVersion={rv}", seconds=2):
        if event["object"]["metadata"].get("name") == "w":
            seen.append((event["type"], event["object"].get("data", {})))
    assert seen == [("ADDED", {}), ("MODIFIED", {"k": "v"}), ("DELETED", {"k": "v"})]


def test_finalizers_hold_a_deleted_object_until_removed(api: Api) -> None:
    api.ok("POST", api.ns("configmaps"), config_map("held", finalizers=["example.com/hold"]))
    api.ok("DELETE", api.ns("configmaps", "held"))
    held = api.ok("GET", api.ns("configmaps", "held"))
    assert held["metadata"]["deletionTimestamp"]
    release = {"metadata": {"finalizers": None}}
    api.ok(
        "PATCH", api.ns("configmaps", "held"), release, content_type="application/merge-patch+json"
    )
    wait_for("the object gone", lambda: api.call("GET", api.ns("configmaps", "held"))[0] == 404)


# -- subresources and tables -----------------------------------------------------------------


def test_status_is_written_only_through_its_subresource(api: Api) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
    }
    api.ok("POST", api.ns("services"), service)
    ingress = {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.7"}]}}}
    merge = "application/merge-patch+json"
    main = api.ok("PATCH", api.ns("services", "lb"), ingress, content_type=merge)
    assert main["status"]["loadBalancer"] == {}
    sub = api.ok("PATCH", api.ns("services", "lb") + "/status", ingress, content_type=merge)
    # The real server also defaults `ipMode`, which the emulator leaves out.
    assert [i["ip"] for i in sub["status"]["loadBalancer"]["ingress"]] == ["192.0.2.7"]


def test_scale_subresource(api: Api) -> None:
    api.ok("POST", api.ns("deployments", group="apps/v1"), deployment("web", 1))
    scale = api.ok("GET", api.ns("deployments", "web", group="apps/v1") + "/scale")
    assert (scale["apiVersion"], scale["kind"]) == ("autoscaling/v1", "Scale")
    assert scale["spec"] == {"replicas": 1}
    body = {"spec": {"replicas": 3}}
    path = api.ns("deployments", "web", group="apps/v1") + "/scale"
    api.ok("PATCH", path, body, content_type="application/merge-patch+json")
    assert api.ok("GET", api.ns("deployments", "web", group="apps/v1"))["spec"]["replicas"] == 3


def test_pods_as_a_table_have_kubectls_columns(api: Api) -> None:
    api.ok("POST", api.ns("pods"), pod("p"))
    table = api.ok("GET", api.ns("pods"), accept=TABLE)
    assert table["kind"] == "Table"
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]
    assert table["rows"][0]["cells"][0] == "p"


# -- controllers -----------------------------------------------------------------------------


def test_a_deployment_owns_a_replicaset_that_owns_running_pods(api: Api) -> None:
    api.ok("POST", api.ns("deployments", group="apps/v1"), deployment("web", 2))

    def running() -> list[Obj]:
        pods = api.ok("GET", api.ns("pods") + "?labelSelector=app%3Dweb")["items"]
        up = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
        return up if len(up) == 2 else []

    pods = wait_for("two running pods", running)
    owners = {p["metadata"]["ownerReferences"][0]["kind"] for p in pods}
    assert owners == {"ReplicaSet"}
    sets = api.ok("GET", api.ns("replicasets", group="apps/v1"))["items"]
    assert [s["metadata"]["ownerReferences"][0]["name"] for s in sets] == ["web"]

    api.ok("DELETE", api.ns("deployments", "web", group="apps/v1"))
    wait_for(
        "the garbage collector to remove the ReplicaSet and pods",
        lambda: (
            not api.ok("GET", api.ns("replicasets", group="apps/v1"))["items"]
            and not api.ok("GET", api.ns("pods") + "?labelSelector=app%3Dweb")["items"]
        ),
    )


def test_an_unschedulable_pod_gets_the_schedulers_reason(api: Api) -> None:
    # Tolerating the GPU node's taint, so every node is refused for CPU alone.
    big = {
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}],
        "containers": [
            {"name": "main", "image": "busybox:1.36", "resources": {"requests": {"cpu": "100"}}}
        ],
    }
    api.ok("POST", api.ns("pods"), pod("big", **big))

    def scheduled_condition() -> Obj | None:
        status = api.ok("GET", api.ns("pods", "big")).get("status", {})
        return next((c for c in status.get("conditions", []) if c["type"] == "PodScheduled"), None)

    condition = wait_for("PodScheduled False", scheduled_condition)
    assert (condition["status"], condition["reason"]) == ("False", "Unschedulable")
    assert condition["message"].startswith("0/3 nodes are available: 3 Insufficient cpu. ")

    def event() -> Obj | None:
        events = api.ok("GET", api.ns("events"))["items"]
        return next((e for e in events if e["reason"] == "FailedScheduling"), None)

    failed = wait_for("a FailedScheduling event", event)
    assert failed["involvedObject"]["name"] == "big" and failed["type"] == "Warning"


def test_a_new_namespace_gets_its_default_service_account(api: Api) -> None:
    wait_for(
        "the default ServiceAccount",
        lambda: api.call("GET", api.ns("serviceaccounts", "default"))[0] == 200,
    )


# -- identity and discovery ------------------------------------------------------------------


def test_self_subject_access_review(api: Api) -> None:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {"namespace": api.namespace, "verb": "list", "resource": "pods"}
        },
    }
    answer = api.ok("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
    assert answer["status"]["allowed"] is True


def test_discovery_names_resources_and_subresources(api: Api) -> None:
    core = {r["name"]: r for r in api.ok("GET", "/api/v1")["resources"]}
    assert core["pods"]["namespaced"] is True and core["pods"]["kind"] == "Pod"
    assert {"get", "list", "watch", "create", "delete"} <= set(core["pods"]["verbs"])
    assert {"pods/log", "pods/status"} <= set(core)
    assert core["nodes"]["namespaced"] is False
    groups = {g["name"] for g in api.ok("GET", "/apis")["groups"]}
    assert {"apps", "batch", "rbac.authorization.k8s.io"} <= groups


def test_orphan_deletion_keeps_the_dependents(api: Api) -> None:
    api.ok("POST", api.ns("deployments", group="apps/v1"), deployment("kept", 1))
    sets = wait_for(
        "the ReplicaSet", lambda: api.ok("GET", api.ns("replicasets", group="apps/v1"))["items"]
    )
    orphan = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"}
    api.ok("DELETE", api.ns("deployments", "kept", group="apps/v1"), orphan)
    wait_for(
        "the Deployment gone",
        lambda: api.call("GET", api.ns("deployments", "kept", group="apps/v1"))[0] == 404,
    )
    name = sets[0]["metadata"]["name"]

    def released() -> bool:
        rs = api.ok("GET", api.ns("replicasets", name, group="apps/v1"))
        return not rs["metadata"].get("ownerReferences")

    wait_for("the ReplicaSet without its owner", released)


def test_server_side_apply_creates_then_updates(api: Api) -> None:
    path = api.ns("configmaps", "applied") + "?fieldManager=contract"
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}}
    made = api.ok("PATCH", path, {**body, "data": {"a": "1"}}, content_type=APPLY)
    assert made["data"] == {"a": "1"}
    changed = api.ok("PATCH", path, {**body, "data": {"a": "2"}}, content_type=APPLY)
    assert changed["data"] == {"a": "2"}
    assert int(changed["metadata"]["resourceVersion"]) > int(made["metadata"]["resourceVersion"])


def test_watch_with_initial_events_ends_them_with_a_bookmark(api: Api) -> None:
    api.ok("POST", api.ns("configmaps"), config_map("first", labels={"w": "1"}))
    query = (
        "?labelSelector=w&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true"
    )
    events = []
    for event in api.watch(api.ns("configmaps") + query, seconds=3):
        events.append(event)
        if event["type"] == "BOOKMARK":
            break
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events[:1]] == [
        ("ADDED", "first")
    ]
    bookmark = events[-1]
    assert bookmark["type"] == "BOOKMARK"
    annotations = bookmark["object"]["metadata"]["annotations"]
    assert annotations == {"k8s.io/initial-events-end": "true"}


def test_a_deleted_namespace_terminates_then_disappears(api: Api) -> None:
    name = f"gone-{secrets.token_hex(3)}"
    api.ok("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    api.ok("POST", f"/api/v1/namespaces/{name}/configmaps", config_map("inside"))
    deleted = api.ok("DELETE", f"/api/v1/namespaces/{name}")
    assert deleted["status"]["phase"] == "Terminating"
    wait_for("the namespace gone", lambda: api.call("GET", f"/api/v1/namespaces/{name}")[0] == 404)
