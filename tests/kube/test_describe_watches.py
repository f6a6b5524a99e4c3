"""Describing one object starts no watch: its diagnosis reads the informers the views already
run and asks the API for the rest (its events by field selector), on the real plane."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from jupyter_mlops.server.models.kube import KubeDescription
from tests.plane import Namespace

from .helpers import pod
from .wire import conforms

WAIT = 90.0


async def described(jp_fetch: Any, name: str) -> KubeDescription:
    """The pod's description once the scheduler's refusal is in it."""
    deadline = time.monotonic() + WAIT
    while True:
        response = await jp_fetch("mlops", "api", "kube", "pods", name, "describe")
        found = conforms(response.body, KubeDescription)
        if (found.findings and found.events) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


def watched(jp_serverapp: Any) -> set[str]:
    cache = jp_serverapp.web_app.settings["mlops"].watch_cache()
    return {informer.kind.plural for informer in cache.informers()}


async def test_describing_a_pod_starts_no_watch_and_reuses_a_running_one(
    jp_fetch: Any, jp_serverapp: Any, namespace: Namespace
) -> None:
    greedy = pod("greedy")
    greedy["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "64"}}
    namespace.apply(greedy)

    alone = await described(jp_fetch, "greedy")
    assert alone.findings, "the diagnosis names why the pod is not scheduled"
    assert watched(jp_serverapp) == set()

    # A table of pods in view: describing reads its informer and still starts no other.
    await jp_fetch("mlops", "api", "kube", "pods", params={"limit": "10"})
    assert watched(jp_serverapp) == {"pods"}
    beside = await described(jp_fetch, "greedy")
    assert [f.cause for f in beside.findings] == [f.cause for f in alone.findings]
    assert watched(jp_serverapp) == {"pods"}
