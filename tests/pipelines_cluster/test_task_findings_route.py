"""`GET pipelines/runs/ID/tasks/TASK/findings`: why a cluster task failed, through a real
jupyter_server, the KFP emulator placing the task pods on the real control plane, and the
profile's `default-editor` identity.

The pod is made as Argo's workflow controller makes it (by the KFP emulator); kwok's lifecycle
Stage plays the kubelet that ends it, and the emulator writes its log through the plane's
container log files. Argo's pod GC, which removes it, is done by the admin in its place.
"""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import kfp
import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kfp import KfpEmulator
from tests.kfp_pipelines import compiled, two_steps
from tests.plane import ProfileNamespace, wait_for

TOKEN = "findings-kfp-token"
RUN_LABEL = "pipeline/runid"


@pytest.fixture
def pipelines(kubeflow_plane: ControlPlane, profile: ProfileNamespace) -> Iterator[KfpEmulator]:
    """Kubeflow Pipelines whose task pods run in the profile's namespace on the plane."""
    with KfpEmulator(
        control_plane=kubeflow_plane, token=TOKEN, step_seconds=0.05, namespaces=(profile.name,)
    ) as emulator:
        yield emulator


@pytest.fixture
def mlops_config(
    pipelines: KfpEmulator, profile: ProfileNamespace, tmp_path: Path
) -> dict[str, Any]:
    """A notebook of the profile: its editor's kubeconfig, Pipelines at the emulator."""
    workspace = tmp_path / "work"
    workspace.mkdir()
    return {
        "kfp_endpoint": pipelines.url,
        "kfp_token": TOKEN,
        "namespace": profile.name,
        "kubeconfig": str(profile.kubeconfig),
        "workspace": str(workspace),
    }


def failed_run(pipelines: KfpEmulator, namespace: str, tmp_path: Path) -> tuple[str, Any]:
    """A run whose first task fails; its KFP task details as the kfp client reads them."""
    package = compiled(two_steps, tmp_path)
    client = kfp.Client(host=pipelines.url, existing_token=TOKEN, namespace=namespace)
    run_id = client.create_run_from_pipeline_package(str(package), run_name="bad").run_id
    pipelines.fail_task(run_id, "load-data")
    assert pipelines.wait_for_run_state(run_id, timeout=60) == "FAILED"
    details = client.get_run(run_id).run_details.task_details
    return run_id, next(t for t in details if t.display_name == "load-data")


def ended_pod(profile: ProfileNamespace, run_id: str) -> Any:
    """The run's task pod once kwok has ended it, as kubectl shows it."""
    return wait_for(
        "the task pod Failed",
        lambda: next(
            (
                p
                for p in profile.admin.get("pods", "-l", f"{RUN_LABEL}={run_id}")["items"]
                if p["status"].get("phase") == "Failed"
            ),
            None,
        ),
        timeout=60,
    )


async def findings(jp_fetch: Any, run_id: str, task: str, **params: str) -> Any:
    response = await jp_fetch(
        "mlops", "api", "pipelines", "runs", run_id, "tasks", task, "findings", params=params
    )
    return json.loads(response.body)


async def until(what: str, check: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    """Poll an answer of the server without blocking the loop it runs on."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


async def refused(jp_fetch: Any, run_id: str, task: str, **params: str) -> tuple[int, Any]:
    with pytest.raises(HTTPClientError) as error:
        await findings(jp_fetch, run_id, task, **params)
    assert error.value.response is not None
    body = json.loads(error.value.response.body)
    assert set(body) == {"reason", "message"}, body
    return error.value.code, body


def causes_of(report: Any) -> list[str]:
    return [f["cause"] for f in report["findings"]]


async def test_a_failed_task_then_its_pod_gone(
    jp_fetch: Any, pipelines: KfpEmulator, profile: ProfileNamespace, tmp_path: Path
) -> None:
    run_id, task = failed_run(pipelines, profile.name, tmp_path)
    pod = ended_pod(profile, run_id)
    name = pod["metadata"]["name"]
    main = next(c for c in pod["status"]["containerStatuses"] if c["name"] == "main")
    code = main["state"]["terminated"]["exitCode"]

    async def pod_finding() -> Any:
        report = await findings(jp_fetch, run_id, "load-data", source="cluster")
        return report if causes_of(report) == ["container-failed"] else None

    report = await until("the pod's finding", pod_finding)
    assert report["namespace"] == profile.name
    (found,) = report["findings"]
    assert found["object"] == {"kind": "Pod", "name": name}
    assert {"kind": "PipelineRun", "name": run_id} in found["owners"]
    assert found["summary"].startswith(f"Container main failed (exit code {code})")
    logs = [e["text"] for e in found["evidence"] if e["source"] == "log"]
    assert "RuntimeError: task load-data failed" in logs
    assert name in found["fix"]
    # The source is told by the id's shape when not given: a KFP id is a cluster run's.
    assert (await findings(jp_fetch, run_id, "load-data"))["findings"] == report["findings"]

    # Argo's pod GC removes the pods of a finished run (done here by the admin in its place).
    profile.admin.kubectl("delete", "pod", name, "--grace-period=0", "--force")
    wait_for(
        "the pod gone",
        lambda: not profile.admin.get("pods", "-l", f"{RUN_LABEL}={run_id}")["items"] or None,
    )

    async def gone_finding() -> Any:
        report = await findings(jp_fetch, run_id, "load-data", source="cluster")
        return report if causes_of(report) == ["task-pod-gone"] else None

    (gone,) = (await until("the pod-gone finding", gone_finding))["findings"]
    finished = task.end_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert gone["object"] == {"kind": "PipelineTask", "name": "load-data"}
    assert gone["summary"].startswith(
        f"Task load-data of run {run_id} failed, and its pod is gone, so the cluster no longer "
        f"says why: its last known state is {task.state} (finished {finished})"
    )
    texts = [e["text"] for e in gone["evidence"]]
    assert f"KFP task load-data: state {task.state}, finished {finished}" in texts
    assert gone["fix"]

    # The task that never ran (its input never came) has nothing wrong to tell.
    skipped = await findings(jp_fetch, run_id, "train-model", source="cluster")
    assert skipped["findings"] == []


async def test_bad_inputs_are_refused_in_words(
    jp_fetch: Any, pipelines: KfpEmulator, profile: ProfileNamespace, tmp_path: Path
) -> None:
    run_id, _ = failed_run(pipelines, profile.name, tmp_path)

    code, body = await refused(jp_fetch, run_id, "no-such-task", source="cluster")
    assert code == 404 and "has no task 'no-such-task'" in body["message"]
    assert "load-data" in body["message"]
    unknown = "0b0b0b0b-0000-4000-8000-000000000000"
    code, body = await refused(jp_fetch, unknown, "load-data", source="cluster")
    assert code == 404 and unknown in body["message"]
    code, body = await refused(jp_fetch, "ab" * 16, "load-data", source="local")
    assert code == 400 and "source=cluster" in body["message"]
    # A local run's id, by its shape, is a local run's too.
    code, body = await refused(jp_fetch, "ab" * 16, "load-data")
    assert code == 400 and "log" in body["message"]
    code, body = await refused(jp_fetch, run_id, "load-data", source="nowhere")
    assert code == 400 and "source must be" in body["message"]
