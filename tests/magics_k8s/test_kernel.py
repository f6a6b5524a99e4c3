"""In a real kernel, `%k8s logs -f` shows a live widget; the frontend's Stop click ends it."""

from __future__ import annotations

import os
import queue
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

from tests.plane import Namespace

from .conftest import running_pod

ROOT = Path(__file__).resolve().parents[2]
WIDGET = "application/vnd.jupyter.widget-view+json"
WAIT = 30.0


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[BlockingKernelClient]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "NB_PREFIX"):
        env.pop(name, None)
    manager: KernelManager
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=env)
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client: BlockingKernelClient, code: str) -> list[dict[str, Any]]:
    """Run a cell and return the messages it published, up to the kernel going idle."""
    msg_id = client.execute(code)
    messages = []
    while True:
        message = client.get_iopub_msg(timeout=WAIT)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(message)
        if message["msg_type"] == "error":
            raise AssertionError("\n".join(message["content"]["traceback"]))
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return messages


class Frontend:
    """What a notebook frontend holds: widget models by id, updated by the kernel's messages."""

    def __init__(self, client: BlockingKernelClient) -> None:
        self.client = client
        self.models: dict[str, dict[str, Any]] = {}

    def take(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            content = message["content"]
            if message["msg_type"] in ("comm_open", "comm_msg"):
                state = content.get("data", {}).get("state")
                if state is not None:
                    self.models.setdefault(content["comm_id"], {}).update(state)

    def await_state(self, done: Callable[[], bool]) -> None:
        """Read the kernel's messages until `done()` holds for the models."""
        while not done():
            try:
                self.take([self.client.get_iopub_msg(timeout=WAIT)])
            except queue.Empty:
                raise AssertionError(f"the widget never got there: {self.models}") from None

    def model(self, name: str) -> tuple[str, dict[str, Any]]:
        found = [(i, m) for i, m in self.models.items() if m.get("_model_name") == name]
        assert found, f"no {name} among {[m.get('_model_name') for m in self.models.values()]}"
        return found[0]

    def html_containing(self, text: str) -> bool:
        return any(text in str(m.get("value", "")) for m in self.models.values())

    def click(self, comm_id: str) -> None:
        """What the browser sends when the user clicks a button."""
        data = {"method": "custom", "content": {"event": "click"}}
        message = self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.client.shell_channel.send(message)


def test_follow_in_a_notebook_is_a_widget_the_user_can_stop(
    kernel: BlockingKernelClient, namespace: Namespace
) -> None:
    plane, ns = namespace.plane, namespace.name
    plane.append_log(ns, "trainer-0", "main", "<script>alert(1)</script>")
    running_pod(namespace, "trainer-0")
    frontend = Frontend(kernel)
    execute(
        kernel,
        f"%load_ext jupyter_mlops\n%config MLOpsConfig.kubeconfig = {str(namespace.kubeconfig)!r}",
    )

    messages = execute(kernel, "%k8s logs trainer-0 -f")
    frontend.take(messages)

    shown = [m for m in messages if m["msg_type"] == "execute_result"]
    assert shown and WIDGET in shown[0]["content"]["data"]
    frontend.await_state(lambda: frontend.html_containing("&lt;script&gt;alert(1)&lt;/script&gt;"))
    assert not frontend.html_containing("<script>alert(1)</script>")

    plane.append_log(ns, "trainer-0", "main", "epoch 2")
    frontend.await_state(lambda: frontend.html_containing("epoch 2"))

    button_id, button = frontend.model("ButtonModel")
    assert button["description"] == "Stop" and button["disabled"] is False
    frontend.click(button_id)
    frontend.await_state(lambda: frontend.models[button_id].get("disabled") is True)
    assert frontend.html_containing("ended · 2 lines")

    plane.append_log(ns, "trainer-0", "main", "after the stop")
    later = execute(kernel, "%k8s logs trainer-0 --tail 1")
    frontend.take(later)
    printed = [
        m["content"]["data"]["text/plain"] for m in later if m["msg_type"] == "execute_result"
    ]
    assert printed == ["after the stop"]
    assert not frontend.html_containing("after the stop")  # the stopped widget got no more
