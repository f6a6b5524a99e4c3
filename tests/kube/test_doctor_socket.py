"""The doctor over `mlops/api/ws`, on the real control plane: a snapshot of the namespace's
findings, then a crash loop kwok plays as the kubelet reports it arrives unasked, and goes
with its pod; tabs watching one namespace share one examination per change."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from jupyter_mlops.server.doctor_socket import DoctorChannel
from jupyter_mlops.server.state import ServerState
from jupyter_mlops.testing.control_plane import CRASH_LOOP, lifecycle
from tests.plane import Namespace, ProfileNamespace

from .helpers import pod

WAIT = 90.0


@pytest.fixture
def mlops_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The server reaches the plane as the test's profile editor, or else as the admin."""
    name = "profile" if "profile" in request.fixturenames else "namespace"
    ns: Namespace = request.getfixturevalue(name)
    return {"kubeconfig": str(ns.kubeconfig)}


@pytest.fixture
def state(jp_serverapp: Any) -> ServerState:
    server_state: ServerState = jp_serverapp.web_app.settings["mlops"]
    return server_state


class DoctorTab:
    """One tab's socket watching the doctor as `sid`, keeping the findings it was sent."""

    def __init__(self, ws: Any, sid: str = "doctor", namespace: str = "") -> None:
        self.ws, self.sid = ws, sid
        self.messages: list[dict[str, Any]] = []
        ws.write_message(json.dumps({"op": "watch-doctor", "id": sid, "namespace": namespace}))

    async def until(self, done: Callable[[], bool], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            assert left > 0, self.messages[-3:]
            frame = await asyncio.wait_for(self.ws.read_message(), left)
            assert frame is not None, "the socket closed"
            self.messages.extend(json.loads(frame))

    def findings(self) -> dict[str, dict[str, Any]]:
        """The findings as the messages so far leave them, by key."""
        seen: dict[str, dict[str, Any]] = {}
        for message in self.messages:
            assert message["type"] == "findings", message
            if message.get("snapshot"):
                seen = {}
            seen.update(message["findings"])
            for key in message["gone"]:
                seen.pop(key)
        return seen

    def has_snapshot(self) -> bool:
        return bool(self.messages) and self.messages[0].get("snapshot") is True

    def knows(self, name: str) -> Callable[[], bool]:
        return lambda: bool(self.about(name))

    def pushed(self, count: int) -> Callable[[], bool]:
        return lambda: len(self.pushes()) >= count

    def about(self, name: str) -> list[dict[str, Any]]:
        return [f for f in self.findings().values() if f["object"]["name"] == name]

    def pushes(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if not m.get("snapshot")]


def crash_looping(name: str) -> dict[str, Any]:
    return {
        **pod(name),
        "metadata": {"name": name, **lifecycle(CRASH_LOOP, run_for="300ms", back_off="5s")},
    }


async def route_causes(jp_fetch: Any, name: str) -> set[str]:
    answer = await jp_fetch("mlops", "api", "kube", "doctor")
    findings = json.loads(answer.body)["findings"]
    return {f["cause"] for f in findings if f["object"]["name"] == name}


def channel_of(state: ServerState, namespace: str) -> DoctorChannel:
    channel = state.live_tables[("doctor", namespace)]
    assert isinstance(channel, DoctorChannel)
    return channel


async def test_a_crash_loop_arrives_unasked_and_goes_with_its_pod(
    jp_fetch: Any, jp_ws_fetch: Any, namespace: Namespace, state: ServerState
) -> None:
    namespace.apply(pod("healthy"))
    tab = DoctorTab(await jp_ws_fetch("mlops", "api", "ws"))
    await tab.until(tab.has_snapshot)
    first = tab.messages[0]
    assert first["id"] == "doctor" and first["snapshot"] is True
    assert tab.about("healthy") == []

    namespace.apply(crash_looping("trainer"))
    await tab.until(tab.knows("trainer"))
    # What arrived is what the REST route says of the pod.
    shown = {f["cause"] for f in tab.about("trainer")}
    assert shown == await route_causes(jp_fetch, "trainer")
    assert all(f["severity"] == "error" for f in tab.about("trainer"))
    assert tab.about("healthy") == []

    namespace.kubectl("delete", "pod", "trainer", "--wait=false", "--grace-period=0", "--force")
    await tab.until(lambda: not tab.about("trainer"))
    last = next(m for m in reversed(tab.pushes()) if m["gone"])
    assert any(key.startswith("Pod/trainer/") for key in last["gone"])
    assert await route_causes(jp_fetch, "trainer") == set()
    tab.ws.close()


async def test_tabs_on_one_namespace_share_each_examination_and_it_ends_with_the_last(
    jp_fetch: Any, jp_ws_fetch: Any, namespace: Namespace, state: ServerState
) -> None:
    tabs = [DoctorTab(await jp_ws_fetch("mlops", "api", "ws"), sid=f"d{n}") for n in range(2)]
    for tab in tabs:
        await tab.until(tab.has_snapshot)
    channel = channel_of(state, namespace.name)
    assert len(channel.viewers) == 2
    informers = [i for i in state.watch_cache().informers() if i.namespace == namespace.name]
    pods = next(i for i in informers if i.kind.plural == "pods")
    assert pods.listener_count() == 1  # the channel's one listener, for both tabs
    examined, pushed = channel.examinations, channel.pushes
    told: list[str] = []

    def tell(type_: str, obj: dict[str, Any] | None) -> None:
        told.append(type_)

    for informer in informers:
        informer.add_listener(tell)

    namespace.apply(crash_looping("worker"))
    for tab in tabs:
        await tab.until(tab.knows("worker"))
    # Let the crash loop go on a little: every push the channel made reached both tabs, the
    # same, and no tab got more pushes than the channel made.
    await asyncio.sleep(2)
    made = channel.pushes - pushed
    for tab in tabs:
        await tab.until(tab.pushed(made))
    assert made >= 1 and all(len(tab.pushes()) <= channel.pushes - pushed for tab in tabs)
    first, second = ([m["findings"] for m in tab.pushes()[:made]] for tab in tabs)
    assert first == second
    # One examination per batch of changes, not one per tab: no more than the changes the
    # informers of the namespace told (a pod's status, its events), and one at least per push.
    for informer in informers:
        informer.remove_listener(tell)
    assert made <= channel.examinations - examined <= len(told)

    for tab in tabs:
        tab.ws.close()
    deadline = time.monotonic() + WAIT
    while ("doctor", namespace.name) in state.live_tables:
        assert time.monotonic() < deadline, "the channel outlived its last tab"
        await asyncio.sleep(0.05)
    assert pods.listener_count() == 0


async def test_a_refused_namespace_is_an_error_frame_and_the_socket_stays(
    jp_ws_fetch: Any, namespace: Namespace
) -> None:
    ws = await jp_ws_fetch("mlops", "api", "ws")
    ws.write_message(json.dumps({"op": "watch-doctor", "id": "x", "kind": "pods"}))
    (refused,) = json.loads(await asyncio.wait_for(ws.read_message(), WAIT))
    assert refused["type"] == "error" and "'kind'" in refused["message"]
    ws.write_message(json.dumps({"op": "watch-doctor", "id": "y", "namespace": "no-such-ns"}))
    (missing,) = json.loads(await asyncio.wait_for(ws.read_message(), WAIT))
    assert missing["id"] == "y" and missing["type"] == "error"
    assert "no-such-ns" in missing["message"]
    ws.close()


async def test_a_namespace_editor_gets_findings_and_nothing_listens_where_it_may_not_read(
    jp_ws_fetch: Any, profile: ProfileNamespace, state: ServerState
) -> None:
    tab = DoctorTab(await jp_ws_fetch("mlops", "api", "ws"))
    await tab.until(tab.has_snapshot)
    unreadable = {u["kind"] for u in tab.messages[0]["unreadable"]}
    assert not profile.cluster().can_i("list", "nodes")
    assert "nodes" in unreadable

    profile.apply(crash_looping("trainer"))
    await tab.until(tab.knows("trainer"))
    # The informers of kinds the editor may not read have no listener of the doctor's, so
    # they give up instead of retrying for as long as the doctor is watched.
    channel = channel_of(state, profile.name)
    heard = {s.informer.kind.plural for s in channel.subscriptions}
    assert "pods" in heard and not heard & unreadable
    tab.ws.close()
