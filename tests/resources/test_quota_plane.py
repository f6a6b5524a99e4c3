"""ResourceQuota and LimitRange on the real plane: used against hard as the real quota
admission counts it, and the next pod's fate predicted, then tried for real as the editor."""

from __future__ import annotations

import re
from typing import Any

from jupyter_mlops.kube.quantity import parse_quantity
from jupyter_mlops.kube.resources import (
    after_limit_range,
    limit_defaults,
    next_pod_hits,
    no_node_holds,
    pod_size,
    quota_lines,
)
from jupyter_mlops.kube.top import top
from jupyter_mlops.kube.watch import WatchCache
from tests.plane import Namespace, ProfileNamespace, wait_for

from .conftest import pod, sized

Obj = dict[str, Any]
QUOTA: Obj = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "team"},
    "spec": {
        "hard": {
            "requests.cpu": "1",
            "requests.memory": "1Gi",
            "limits.cpu": "2",
            "pods": "4",
            "requests.nvidia.com/gpu": "1",
        }
    },
}
LIMITS: Obj = {
    "apiVersion": "v1",
    "kind": "LimitRange",
    "metadata": {"name": "defaults"},
    "spec": {
        "limits": [
            {
                "type": "Container",
                "default": {"cpu": "500m", "memory": "256Mi"},
                "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                "max": {"cpu": "2"},
            }
        ]
    },
}


def setup(profile: ProfileNamespace) -> None:
    """The cluster admin's quota and defaults for the profile; one pod of the editor's in it."""
    profile.admin.apply(QUOTA, LIMITS)
    profile.apply(pod("first", sized("600m", "256Mi", limit_cpu="1")))
    wait_for(
        "the quota to count the pod",
        lambda: (
            profile.admin.get("quota", "team").get("status", {}).get("used", {}).get("pods") == "1"
        ),
        timeout=60,
    )


def test_used_and_hard_are_what_the_quota_admission_counted(
    profile: ProfileNamespace, editor_cache: WatchCache
) -> None:
    setup(profile)
    status = profile.get("quota", "team")["status"]
    lines = wait_for(
        "the counted quota in the cache",
        lambda: (
            [q for q in quota_lines(editor_cache) if q.resource == "pods" and q.used == 1]
            and quota_lines(editor_cache)
        ),
    )
    assert {q.resource for q in lines} == set(status["hard"])
    for q in lines:
        assert q.hard == parse_quantity(status["hard"][q.resource])
        assert q.used == parse_quantity(status["used"][q.resource])
        assert q.free == q.hard - q.used
    rows = {r["resource"]: r for r in top("quota", editor_cache).rows}
    assert rows["requests.cpu"]["used"] == "600m" and rows["requests.cpu"]["free"] == "400m"


def refusal(profile: ProfileNamespace, name: str, container: Obj) -> str:
    """Try to create the pod as the editor; the API server's refusal, or "" if created."""
    answer = profile.kubectl(
        "apply", "-f", str(profile.manifest(pod(name, container))), check=False
    )
    return answer.stderr if answer.returncode else ""


def named_resources(message: str) -> set[str]:
    """The resources an "exceeded quota" refusal names in its `requested:` list."""
    requested = re.search(r"requested: (\S+), used:", message)
    assert requested, message
    return {part.split("=")[0] for part in requested.group(1).split(",")}


def test_a_pod_too_big_for_what_is_left_is_predicted_and_then_refused(
    profile: ProfileNamespace, editor_cache: WatchCache
) -> None:
    setup(profile)
    size = pod_size("cpu=500m,memory=200Mi")
    hits = wait_for("the quota in the cache", lambda: next_pod_hits(editor_cache, size))
    real = refusal(profile, "too-big", sized("500m", "200Mi"))
    assert "exceeded quota: team" in real
    assert {h.split(" requested")[0].split()[-1].rstrip(":") for h in hits} == named_resources(real)
    assert all(h.startswith("team: exceeded quota ") for h in hits)


def test_a_pod_that_fits_is_predicted_to_fit_and_is_admitted_with_the_defaults(
    profile: ProfileNamespace, editor_cache: WatchCache
) -> None:
    setup(profile)
    wait_for("the limit range in the cache", lambda: limit_defaults(editor_cache))
    size = pod_size("cpu=300m")
    assert next_pod_hits(editor_cache, size) == []
    assert refusal(profile, "fits", sized("300m")) == ""
    admitted = profile.get("pod", "fits")["spec"]["containers"][0]["resources"]
    requests, limits = after_limit_range(editor_cache, size)
    assert requests == {k: parse_quantity(v) for k, v in admitted["requests"].items()}
    assert limits == {k: parse_quantity(v) for k, v in admitted["limits"].items()}


def test_a_gpu_beyond_the_quota_is_predicted_and_refused(
    profile: ProfileNamespace, editor_cache: WatchCache
) -> None:
    setup(profile)
    size = pod_size("cpu=100m,nvidia.com/gpu=2")
    hits = wait_for("the quota in the cache", lambda: next_pod_hits(editor_cache, size))
    assert [h for h in hits if "requests.nvidia.com/gpu" in h], hits
    real = refusal(profile, "two-gpus", sized("100m", gpu="2"))
    assert "requests.nvidia.com/gpu" in named_resources(real)


def test_limit_range_defaults_are_listed_per_resource(
    profile: ProfileNamespace, editor_cache: WatchCache
) -> None:
    profile.admin.apply(LIMITS)
    shown = wait_for("the limit range", lambda: limit_defaults(editor_cache))
    by_resource = {d.resource: d for d in shown}
    assert set(by_resource) == {"cpu", "memory"}
    spec = LIMITS["spec"]["limits"][0]
    assert by_resource["cpu"].default == parse_quantity(spec["default"]["cpu"])
    assert by_resource["memory"].default_request == parse_quantity(spec["defaultRequest"]["memory"])
    assert by_resource["cpu"].max == 2 and by_resource["memory"].max is None


def test_a_request_above_the_default_limit_is_predicted_as_the_limit_range_refuses_it(
    profile: ProfileNamespace, editor_cache: WatchCache
) -> None:
    profile.admin.apply(LIMITS)
    wait_for("the limit range in the cache", lambda: limit_defaults(editor_cache))
    hits = next_pod_hits(editor_cache, pod_size("cpu=100m,memory=900Mi"))
    real = refusal(profile, "over-default", sized("100m", "900Mi"))
    said = re.search(
        r'Invalid value: "(\S+)": must be less than or equal to memory limit of (\S+)', real
    )
    assert said, real
    assert len(hits) == 1 and "memory request" in hits[0]
    assert f"{said.group(1)} is more than its limit {said.group(2)}" in hits[0]


def test_a_pod_no_node_could_hold_is_named_as_the_scheduler_refuses_it(
    namespace: Namespace, admin_cache: WatchCache
) -> None:
    namespace.apply(pod("huge", sized("64")))
    said = wait_for(
        "the scheduler's refusal",
        lambda: [
            c.get("message", "")
            for c in namespace.get("pod", "huge").get("status", {}).get("conditions", [])
            if c.get("reason") == "Unschedulable"
        ],
        timeout=60,
    )
    assert "Insufficient cpu" in said[0]
    holds = no_node_holds(admin_cache, pod_size("cpu=64"))
    assert holds and holds[0].startswith("cpu 64: the largest node has ")
    assert no_node_holds(admin_cache, pod_size("cpu=3,memory=8Gi")) == []


def test_for_the_editor_whether_a_node_could_hold_it_is_unknown(
    profile: ProfileNamespace, editor_cache: WatchCache
) -> None:
    assert no_node_holds(editor_cache, pod_size("cpu=64")) is None
