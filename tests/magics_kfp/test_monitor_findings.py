"""In a real kernel, the monitor of `%kfp run --cluster` shows why a failed task failed: the
doctor's finding on its pod while the run goes on, and that the pod is gone once it is."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import kfp
from jupyter_client.blocking.client import BlockingKernelClient

from jupyter_mlops.testing.kfp import KfpEmulator
from tests.magics_k8s.test_kernel import WIDGET, Frontend, execute, kernel  # noqa: F401
from tests.plane import ProfileNamespace, wait_for

from .conftest import CELLS, FAILING, RUN_LABEL, SLOW, TOKEN, ended_pod, exit_code, settings_lines


def shown(frontend: Frontend, *texts: str) -> bool:
    """Whether one HTML model of the widget holds all of `texts`."""
    return any(all(t in str(m.get("value", "")) for t in texts) for m in frontend.models.values())


def test_the_monitor_shows_the_failed_tasks_finding_then_that_its_pod_is_gone(
    kernel: BlockingKernelClient,  # noqa: F811
    pipelines: KfpEmulator,
    profile: ProfileNamespace,
    tmp_path: Path,
) -> None:
    setup = ["%load_ext jupyter_mlops", *settings_lines(pipelines, profile, tmp_path)]
    execute(kernel, "\n".join(setup))
    for source in CELLS:
        execute(kernel, source)
    # The slow task keeps the run going after the other failed, until it is stopped.
    pipelines.set_task_seconds(SLOW, 600)
    frontend = Frontend(kernel)
    messages = execute(kernel, "%kfp run wide --cluster")
    frontend.take(messages)
    results = [m for m in messages if m["msg_type"] in ("display_data", "execute_result")]
    assert any(WIDGET in m["content"]["data"] for m in results)

    (run_id,) = list(pipelines.service.runs)
    pod = ended_pod(profile, run_id, FAILING)
    name, code = pod["metadata"]["name"], exit_code(pod)
    frontend.await_state(lambda: shown(frontend, "<code>container-failed</code>"))
    summary = f"Container main failed (exit code {code})"
    assert shown(
        frontend,
        f"failed task {FAILING}",
        html.escape(summary),
        html.escape(f"RuntimeError: task {FAILING} failed"),
        html.escape(f"kubectl -n {profile.name} logs {name} -c main"),
        "<b>Fix:</b>",
    )
    # The log's words are escaped: Python's traceback line names `<module>`.
    assert shown(frontend, "in &lt;module&gt;")
    assert "<module>" not in json.dumps(frontend.models)

    # Argo's pod GC removes the pod (done by the admin in its place), then the run is stopped:
    # the monitor's last look finds the pod gone.
    profile.admin.kubectl("delete", "pod", name, "--grace-period=0", "--force")
    wait_for(
        "the pod gone",
        lambda: all(
            p["metadata"]["name"] != name
            for p in profile.admin.get("pods", "-l", f"{RUN_LABEL}={run_id}")["items"]
        ),
    )
    client = kfp.Client(host=pipelines.url, existing_token=TOKEN, namespace=profile.name)
    details = client.get_run(run_id).run_details.task_details
    ended = next(t.end_time for t in details if t.display_name == FAILING)
    # KFP's times are whole seconds, and a task that failed in the second the run was asked to
    # stop counts as stopped by it: stop the run in a later second.
    wait_for(
        "a second after the task's end",
        lambda: dt.datetime.now(dt.timezone.utc) >= ended + dt.timedelta(seconds=1),
    )
    client.terminate_run(run_id)
    frontend.await_state(lambda: shown(frontend, "<code>task-pod-gone</code>"))
    assert shown(
        frontend,
        html.escape(f"Task {FAILING} of run {run_id} failed, and its pod is gone"),
        "last known state is FAILED",
    )
    assert not shown(frontend, "<code>container-failed</code>")
    frontend.await_state(lambda: shown(frontend, "CANCELED"))
