"""In a real kernel, `%kfp run` shows the run monitor widget and it follows the run to its end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

from .conftest import DOUBLE, PIPELINE, THREE_STEPS

ROOT = Path(__file__).resolve().parents[2]
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlockingKernelClient]:
    workspace = tmp_path_factory.mktemp("kernel-workspace")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    manager: KernelManager
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(workspace), env=env)
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
        message = client.get_iopub_msg(timeout=120)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(message)
        if message["msg_type"] == "error":
            raise AssertionError("\n".join(message["content"]["traceback"]))
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return messages


def test_run_magic_shows_a_widget_that_reaches_the_end(kernel: BlockingKernelClient) -> None:
    execute(
        kernel,
        "from jupyter_mlops.magics.kfp import KfpMagics\n"
        "get_ipython().register_magics(KfpMagics)\n",
    )
    for cell in (THREE_STEPS, DOUBLE, PIPELINE):
        execute(kernel, cell.strip())
    messages = execute(kernel, "%kfp run three_steps --param a=1 --wait")

    shown = [m for m in messages if m["msg_type"] == "display_data"]
    assert shown and WIDGET in shown[0]["content"]["data"]
    states = [
        m["content"]["data"]["state"]
        for m in messages
        if m["msg_type"] in ("comm_open", "comm_msg") and "state" in m["content"]["data"]
    ]
    texts = [str(state.get("value", "")) for state in states]
    # The header shows the state the run ended in; the progress bar shows 3 tasks of 3.
    headers = [text for text in texts if text.startswith("<div><b>three-steps ")]
    assert "RUNNING" in "".join(headers[:-1]) and "SUCCEEDED" in headers[-1]
    assert any(state.get("description") == "3/3" for state in states)
    printed = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
    assert "SUCCEEDED in" in printed
