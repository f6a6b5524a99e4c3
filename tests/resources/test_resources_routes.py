"""`mlops/api/resources` through a real jupyter_server on the real plane. The routes are not
yet in the extension's ROUTES (the merge adds them): the test adds them to the server's app,
in front of its JSON 404 fallback, as `setup_handlers` will."""

from __future__ import annotations

from typing import Any

import pytest

from tests.plane import Namespace, wait_for

from .conftest import add_routes, get_json, pod, refused, sized


@pytest.fixture
def mlops_config(namespace: Namespace) -> dict[str, Any]:
    """The server reaches the plane through the namespace's kubeconfig."""
    return {"kubeconfig": str(namespace.kubeconfig)}


@pytest.fixture(autouse=True)
def routes(jp_serverapp: Any) -> None:
    add_routes(jp_serverapp)


async def test_the_namespace_report_lists_pods_with_their_requests(
    jp_fetch: Any, namespace: Namespace
) -> None:
    namespace.apply(pod("trainer", sized("750m", "512Mi", limit_memory="1Gi")))
    wait_for("the pod", lambda: namespace.get("pod", "trainer"))

    async def answer() -> Any:
        return await get_json(jp_fetch, "resources")

    report = await answer()
    for _ in range(100):
        if report["pods"]:
            break
        report = await answer()
    assert report["namespace"] == namespace.name
    [trainer] = report["pods"]
    assert trainer["requests"] == {"cpu": 0.75, "memory": 512 * 2**20}
    assert trainer["limits"] == {"memory": 2**30}
    assert set(report) == {
        "namespace",
        "pods",
        "metrics",
        "quotas",
        "limit_ranges",
        "gpus",
        "volumes",
    }
    assert report["gpus"]["nodes_readable"] is True


async def test_my_resources_outside_a_pod_are_this_servers_use(
    jp_fetch: Any, namespace: Namespace
) -> None:
    mine = await get_json(jp_fetch, "resources", "me")
    assert mine["name"] is None and mine["namespace"] == namespace.name
    assert mine["usage"]["memory_bytes"] > 0 and "not running in a pod" in mine["note"]


async def test_next_pod_without_a_quota_fits(jp_fetch: Any, namespace: Namespace) -> None:
    answer = await get_json(jp_fetch, "resources", "next-pod", size="cpu=64,memory=1Ti")
    assert answer == {
        "namespace": namespace.name,
        "size": {"cpu": 64.0, "memory": 2.0**40},
        "refusals": [],
    }


@pytest.mark.parametrize(
    ("parts", "params", "said"),
    [
        (("resources",), {"namespace": "Not_A_Namespace"}, "namespace"),
        (("resources", "next-pod"), {"size": "cpu"}, "RESOURCE=QUANTITY"),
        (("resources", "next-pod"), {"size": "cpu=much"}, "not a Kubernetes quantity"),
        (("resources", "next-pod"), {}, "say the pod's size"),
    ],
)
async def test_bad_input_is_400(
    jp_fetch: Any, namespace: Namespace, parts: tuple[str, ...], params: dict[str, str], said: str
) -> None:
    code, body = await refused(jp_fetch, *parts, **params)
    assert code == 400 and said in body["message"]
