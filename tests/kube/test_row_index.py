"""The list route's rows come from a row index the informer keeps from its events: in name
order as kubectl sorts them, one row made per event (never the whole table again), ages
written when a page is read."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from jupyter_mlops.server.state import ServerState
from tests.plane import Namespace, wait_for

from .helpers import pod

WAIT = 60.0
NAMES = [f"p-{i:02d}" for i in range(0, 40, 2)]


@pytest.fixture
def state(jp_serverapp: Any) -> ServerState:
    server_state: ServerState = jp_serverapp.web_app.settings["mlops"]
    return server_state


async def page(jp_fetch: Any, **params: str) -> dict[str, Any]:
    answer = await jp_fetch("mlops", "api", "kube", "pods", params={"limit": "1000", **params})
    body: dict[str, Any] = json.loads(answer.body)
    return body


async def until_rows(jp_fetch: Any, names: list[str]) -> list[dict[str, Any]]:
    """The route's rows once they are exactly `names`, all Running."""
    deadline = time.monotonic() + WAIT
    while True:
        rows: list[dict[str, Any]] = (await page(jp_fetch))["rows"]
        if sorted(r["name"] for r in rows) == sorted(names) and all(
            r["status"] == "Running" for r in rows
        ):
            return rows
        assert time.monotonic() < deadline, [(r["name"], r["status"]) for r in rows]
        await asyncio.sleep(0.05)


def kubectl_names(namespace: Namespace) -> list[str]:
    out = namespace.kubectl("get", "pods", "--sort-by=.metadata.name", "-o", "name").stdout
    return [line.removeprefix("pod/") for line in out.split()]


async def test_rows_follow_each_event_in_name_order_one_row_made_per_event(
    jp_fetch: Any, namespace: Namespace, state: ServerState
) -> None:
    namespace.apply(*(pod(name) for name in NAMES))
    await until_rows(jp_fetch, NAMES)
    (informer,) = [i for i in state.watch_cache().informers() if i.kind.plural == "pods"]
    told: list[str] = []
    informer.add_listener(lambda t, o: told.append(t) if o is not None else None)
    made = state.row_counters.rows

    # A pod whose name sorts between two others, and one deleted.
    namespace.apply(pod("p-05"))
    namespace.kubectl("delete", "pod", "p-10", "--wait=true")
    names = sorted({*NAMES, "p-05"} - {"p-10"})
    rows = await until_rows(jp_fetch, names)
    assert [r["name"] for r in rows] == kubectl_names(namespace)
    # One row made per event that came (none for the other 19 pods, no table rebuilt).
    wait_for("the informer's events", lambda: "DELETED" in told)
    assert state.row_counters.rows - made == sum(1 for t in told if t != "DELETED")

    # Pages and the filter read the same order.
    paged: list[str] = []
    for offset in range(0, len(names), 7):
        body = await page(jp_fetch, offset=str(offset), limit="7")
        assert body["total"] == len(names)
        paged += [r["name"] for r in body["rows"]]
    assert paged == names
    body = await page(jp_fetch, filter="p-1")
    assert [r["name"] for r in body["rows"]] == [n for n in names if "p-1" in n]


async def test_ages_are_written_when_a_page_is_read(
    jp_fetch: Any, namespace: Namespace, state: ServerState
) -> None:
    namespace.apply(pod("aging"))
    (first,) = await until_rows(jp_fetch, ["aging"])
    made = state.row_counters.rows
    await asyncio.sleep(2.5)
    (later,) = (await page(jp_fetch))["rows"]
    # Nothing changed, so no row was made again, yet the age moved on (seconds, as kubectl).
    assert state.row_counters.rows == made
    assert later["resource_version"] == first["resource_version"]
    assert first["age"].endswith("s") and later["age"].endswith("s")
    assert int(later["age"][:-1]) >= int(first["age"][:-1]) + 2
