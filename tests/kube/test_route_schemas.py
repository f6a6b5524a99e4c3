"""Every cluster route's answer, from a real jupyter_server on the real plane, is exactly its
model in api/schemas.json, and says what kubectl says about the same objects."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import yaml

from jupyter_mlops.server.models.kube import (
    KubeDeleted,
    KubeDescription,
    KubeKinds,
    KubeLog,
    KubeObject,
    KubeScaled,
    KubeScaleRequest,
    KubeTablePage,
    KubeYaml,
)
from tests.plane import Namespace, wait_for

from .helpers import deployment, gone, pod, running
from .wire import conforms

WAIT = 90.0


async def answer(jp_fetch: Any, *parts: str, **params: str) -> bytes:
    response = await jp_fetch("mlops", "api", "kube", *parts, params=params)
    assert response.headers["Content-Type"].startswith("application/json")
    body: bytes = response.body
    return body


def names(ns: Namespace, kind: str) -> list[str]:
    return sorted(o["metadata"]["name"] for o in ns.get(kind)["items"])


async def test_kinds_are_the_kinds_kubectl_lists(jp_fetch: Any, namespace: Namespace) -> None:
    kinds = conforms(await answer(jp_fetch), KubeKinds)
    assert kinds.namespace == namespace.name
    listed = namespace.kubectl("api-resources", "--no-headers", "-o", "name").stdout.split()
    ours = {k.plural + (f".{k.group}" if k.group else "") for k in kinds.kinds}
    assert ours <= set(listed) and "pods" in ours and "deployments.apps" in ours
    # Core pods; metrics.k8s.io also serves "pods" once a test has started its metrics API.
    [pods] = [k for k in kinds.kinds if k.plural == "pods" and not k.group]
    assert (pods.kind, pods.group, pods.version, pods.namespaced) == ("Pod", "", "v1", True)


async def page_until(jp_fetch: Any, kind: str, done: Any) -> KubeTablePage:
    """The kind's first page once `done(page)`: the cache may lag kubectl by a few events."""
    deadline = time.monotonic() + WAIT
    while True:
        page = conforms(await answer(jp_fetch, kind, limit="1000"), KubeTablePage)
        if done(page) or time.monotonic() > deadline:
            return page
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("kind", ["pods", "deployments", "configmaps", "events", "nodes"])
async def test_every_row_of_a_page_is_a_kube_row(
    jp_fetch: Any, namespace: Namespace, kind: str
) -> None:
    namespace.apply(deployment("web", 2), pod("solo"))
    wait_for("the pods", lambda: len(names(namespace, "pods")) == 3, WAIT)
    wait_for(f"some {kind}", lambda: bool(names(namespace, kind)), WAIT)
    page = await page_until(
        jp_fetch, kind, lambda p: sorted(r.name for r in p.rows) == names(namespace, kind)
    )
    assert (page.kind, page.error, page.total) == (kind, None, len(page.rows))
    assert sorted(r.name for r in page.rows) == names(namespace, kind)
    for row in page.rows:
        assert set(page.columns) <= set(row.model_dump()), "the table reads each column"


async def test_an_object_is_a_kube_object_with_its_owners(
    jp_fetch: Any, namespace: Namespace
) -> None:
    namespace.apply(deployment("web", 1))
    wait_for("the deployment's pod", lambda: len(names(namespace, "pods")) == 1, WAIT)
    [name] = names(namespace, "pods")
    obj = conforms(await answer(jp_fetch, "pods", name), KubeObject)
    truth = namespace.get("pod", name)
    assert (obj.apiVersion, obj.kind) == ("v1", "Pod")
    assert obj.metadata.uid == truth["metadata"]["uid"]
    assert obj.metadata.namespace == namespace.name
    assert "managedFields" not in (obj.metadata.model_extra or {})
    [owner] = obj.metadata.ownerReferences or []
    [real] = truth["metadata"]["ownerReferences"]
    assert (owner.kind, owner.name, owner.uid, owner.controller) == (
        "ReplicaSet",
        real["name"],
        real["uid"],
        True,
    )


async def test_a_secret_is_a_kube_object_without_values(
    jp_fetch: Any, namespace: Namespace
) -> None:
    namespace.kubectl("create", "secret", "generic", "creds", "--from-literal=token=s3cret")
    raw = await answer(jp_fetch, "secrets", "creds")
    obj = conforms(raw, KubeObject)
    assert obj.kind == "Secret" and b"s3cret" not in raw
    assert b"czNjcmV0" not in raw  # nor its base64


async def test_describe_is_a_kube_description(jp_fetch: Any, namespace: Namespace) -> None:
    greedy = pod("greedy", labels={"team": "ml"})
    greedy["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "64"}}
    namespace.apply(greedy)

    async def described() -> KubeDescription:
        return conforms(await answer(jp_fetch, "pods", "greedy", "describe"), KubeDescription)

    found = await described()
    deadline = time.monotonic() + WAIT
    while not (found.findings and found.events) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        found = await described()
    truth = namespace.get("pod", "greedy")
    assert (found.kind, found.name, found.namespace) == ("Pod", "greedy", namespace.name)
    assert found.labels == {"team": "ml"} and found.row.health == "error"
    [container] = found.containers
    assert (container.name, container.image) == ("main", truth["spec"]["containers"][0]["image"])
    assert container.requests == {"cpu": "64"} and container.state == "waiting"
    assert [c.type for c in found.conditions] == [c["type"] for c in truth["status"]["conditions"]]
    assert found.diagnosis == [f.summary for f in found.findings]
    assert any((e.model_extra or {}).get("reason") == "FailedScheduling" for e in found.events)


async def test_describe_of_a_deployment_has_no_containers(
    jp_fetch: Any, namespace: Namespace
) -> None:
    namespace.apply(deployment("web", 1))
    found = conforms(await answer(jp_fetch, "deployments", "web", "describe"), KubeDescription)
    assert found.kind == "Deployment" and found.containers == []
    assert found.row.name == "web"


async def test_yaml_and_log_are_their_models(jp_fetch: Any, namespace: Namespace) -> None:
    namespace.plane.append_log(namespace.name, "chatty", "main", "one", "two")
    namespace.apply(pod("chatty"))
    running(namespace, "chatty")
    as_yaml = conforms(await answer(jp_fetch, "pods", "chatty", "yaml"), KubeYaml)
    loaded = yaml.safe_load(as_yaml.yaml)
    assert loaded["metadata"]["uid"] == namespace.get("pod", "chatty")["metadata"]["uid"]
    log = conforms(await answer(jp_fetch, "pods", "chatty", "log"), KubeLog)
    assert (log.pod, log.container) == ("chatty", None)
    assert log.lines == namespace.kubectl("logs", "chatty").stdout.splitlines()
    named = conforms(await answer(jp_fetch, "pods", "chatty", "log", container="main"), KubeLog)
    assert named.container == "main" and named.lines == log.lines


async def test_scale_takes_its_request_and_answers_its_model(
    jp_fetch: Any, namespace: Namespace
) -> None:
    namespace.apply(deployment("web", 1))
    body = KubeScaleRequest(replicas=3).model_dump_json()
    response = await jp_fetch(
        "mlops", "api", "kube", "deployments", "web", "scale", method="PATCH", body=body
    )
    scaled = conforms(response.body, KubeScaled)
    truth = namespace.get("deployment", "web")["spec"]["replicas"]
    assert (scaled.name, scaled.replicas) == ("web", truth) and truth == 3


async def test_delete_answers_its_model(jp_fetch: Any, namespace: Namespace) -> None:
    namespace.apply(pod("doomed"))
    running(namespace, "doomed")
    response = await jp_fetch("mlops", "api", "kube", "pods", "doomed", method="DELETE")
    assert conforms(response.body, KubeDeleted).deleted == "doomed"
    gone(namespace, "pod", "doomed")


async def test_a_renamed_or_missing_field_does_not_conform(
    jp_fetch: Any, namespace: Namespace
) -> None:
    body = json.loads(await answer(jp_fetch, "pods"))
    renamed = {("row_list" if k == "rows" else k): v for k, v in body.items()}
    with pytest.raises(Exception, match="rows"):
        conforms(json.dumps(renamed), KubeTablePage)
    kinds = json.loads(await answer(jp_fetch))
    kinds["kinds"] = [{**kinds["kinds"][0], "namespaced": "yes"}]
    with pytest.raises(Exception, match="namespaced"):
        conforms(json.dumps(kinds), KubeKinds)
    extra = {"yaml": "a: 1\n", "text": "a: 1\n"}
    with pytest.raises(AssertionError):
        conforms(json.dumps(extra), KubeYaml)
