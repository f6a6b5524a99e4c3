"""`%kfp run --cluster` warns, without blocking the submit, when a component's pod (as the
compiled pipeline sizes it) would be refused by the namespace's quota or LimitRange, or no
node could ever hold it: on the real plane, with the KFP API emulator taking the run."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.kube.doctor import examine_pipeline
from jupyter_mlops.magics.connected import connection
from jupyter_mlops.magics.kfp import KfpMagics
from jupyter_mlops.pipelines.fit import component_sizes
from jupyter_mlops.pipelines.local import load_spec
from jupyter_mlops.testing.kfp import KfpEmulator
from tests.plane import Namespace, ProfileNamespace, wait_for

from .conftest import pod, sized

Obj = dict[str, Any]
TOKEN = "pipelines-token"
QUOTA: Obj = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "team"},
    "spec": {"hard": {"requests.cpu": "1", "requests.memory": "1Gi"}},
}
COMPONENT = """
%%kfp_component square
def square(x: int) -> int:
    return x * x
"""
# prep fits; train asks more CPU than the quota has; huge more than any node has.
PIPELINE = """
%%kfp_pipeline sized
first = square(x=2).set_cpu_request("200m").set_memory_request("128Mi")
square(x=first.output).set_cpu_request("2").set_memory_request("256Mi")
square(x=3).set_cpu_request("64").set_memory_request("256Mi").set_cpu_limit("64")
"""
SMALL = """
%%kfp_pipeline small
square(x=2).set_cpu_request("100m").set_memory_request("64Mi")
"""


# A GPU step inside a sub-pipeline, asking more GPUs than any node has.
GPU_PIPELINES = """
from kfp import dsl

@dsl.pipeline(name="inner")
def inner(x: int = 1) -> int:
    return square(x=x).set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(4).output

@dsl.pipeline(name="gpus")
def gpus():
    inner(x=2)
    square(x=3).set_memory_limit("1Gi")
"""


@pytest.fixture
def kfp_api() -> Iterator[KfpEmulator]:
    with KfpEmulator(token=TOKEN, step_seconds=0.05) as emulator:
        yield emulator


def notebook(ns: Namespace, kfp_api: KfpEmulator, tmp_path: Path) -> InteractiveShell:
    """A notebook configured, as with %config, for the emulated Pipelines and `ns` on the plane."""
    shell = InteractiveShell.instance()
    config = {
        "kfp_endpoint": kfp_api.url,
        "kfp_token": TOKEN,
        "namespace": ns.name,
        "kubeconfig": str(ns.kubeconfig),
        "workspace": str(tmp_path / "work"),
    }
    for name, value in config.items():
        setattr(shell.config.MLOpsConfig, name, value)
    shell.register_magics(KfpMagics(shell=shell, pipelines_dir=str(tmp_path / "local")))
    return shell


@pytest.fixture
def shells() -> Iterator[None]:
    yield
    InteractiveShell.clear_instance()


def cell(shell: InteractiveShell, source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = shell.run_cell(source, store_history=False)
    result.raise_error()
    return out.getvalue()


def warnings(printed: str) -> list[str]:
    return [line for line in printed.splitlines() if line.startswith("Warning: ")]


def refused(ns: Namespace, name: str, cpu: str, memory: str) -> str:
    """Create the pod for real; the API server's refusal, or "" when admitted."""
    done = ns.kubectl("apply", "-f", str(ns.manifest(pod(name, sized(cpu, memory)))), check=False)
    return done.stderr if done.returncode else ""


def unschedulable(ns: Namespace, name: str) -> str:
    """The scheduler's reason for not placing the pod."""
    found = wait_for(
        f"the scheduler to refuse {name}",
        lambda: [
            c.get("message", "")
            for c in ns.get("pod", name).get("status", {}).get("conditions", [])
            if c.get("reason") == "Unschedulable"
        ],
        timeout=60,
    )
    return str(found[0])


def test_the_submit_warns_of_what_the_quota_and_the_nodes_refuse_and_still_runs(
    namespace: Namespace, kfp_api: KfpEmulator, tmp_path: Path, shells: None
) -> None:
    namespace.apply(QUOTA)
    wait_for(
        "the quota to be counted",
        lambda: namespace.get("quota", "team").get("status", {}).get("hard"),
        timeout=60,
    )
    shell = notebook(namespace, kfp_api, tmp_path)
    cell(shell, COMPONENT)
    cell(shell, PIPELINE)
    sizes = {s.task: s for s in component_sizes(load_spec(shell.user_ns["sized"]))}
    assert sizes["square"].requests == {"cpu": 0.2, "memory": 128 * 2**20}
    assert sizes["square-3"].limits == {"cpu": 64.0}

    printed = cell(shell, "%kfp run sized --cluster --experiment fit")
    said = warnings(printed)
    assert "started on the cluster backend" in printed
    assert len(kfp_api.service.runs) == 1  # warned, not blocked
    # The warnings are the doctor's findings on the pipeline, in plain Python too.
    report = examine_pipeline(
        connection(shell).watch_cache(), load_spec(shell.user_ns["sized"]), "sized", namespace.name
    )
    assert [f"Warning: {f.summary}" for f in report.findings] == said
    assert {(f.object.name, f.cause) for f in report.findings} >= {
        ("square-2", "task-refused-at-admission"),
        ("square-3", "task-fits-no-node"),
    }
    assert {(o.kind, o.name) for f in report.findings for o in f.owners} == {("Pipeline", "sized")}

    # The real admission and scheduler refuse the same pods, in the same words.
    assert refused(namespace, "as-prep", "200m", "128Mi") == ""
    real = refused(namespace, "as-train", "2", "256Mi")
    assert "exceeded quota: team" in real and "requests.cpu=2" in real, real
    assert not [w for w in said if w.startswith("Warning: square:")]
    train = [w for w in said if w.startswith("Warning: square-2:")]
    assert len(train) == 1 and "exceeded quota requests.cpu: requested 2" in train[0]
    huge = [w for w in said if w.startswith("Warning: square-3:")]
    assert any("quota" in w for w in huge)
    assert any("no node could ever hold it: cpu 64: the largest node has " in w for w in huge)
    # Without the quota, the scheduler says the same of a pod of that size.
    namespace.kubectl("delete", "quota", "team")
    wait_for("the quota to be gone", lambda: refused(namespace, "as-huge", "64", "256Mi") == "")
    assert "Insufficient cpu" in unschedulable(namespace, "as-huge")


def test_a_pipeline_that_fits_is_submitted_without_a_word(
    namespace: Namespace, kfp_api: KfpEmulator, tmp_path: Path, shells: None
) -> None:
    namespace.apply(QUOTA)
    shell = notebook(namespace, kfp_api, tmp_path)
    cell(shell, COMPONENT)
    cell(shell, SMALL)
    printed = cell(shell, "%kfp run small --cluster")
    assert warnings(printed) == [] and len(kfp_api.service.runs) == 1


def test_for_the_editor_whether_a_node_could_hold_it_cannot_be_told(
    profile: ProfileNamespace, kfp_api: KfpEmulator, tmp_path: Path, shells: None
) -> None:
    # Kubeflow's editor cannot read nodes: the warning says so instead of guessing.
    assert profile.kubectl("get", "nodes", check=False).returncode != 0
    shell = notebook(profile, kfp_api, tmp_path)
    cell(shell, COMPONENT)
    cell(shell, PIPELINE)
    said = warnings(cell(shell, "%kfp run sized --cluster"))
    assert len(said) == 1 and "cannot tell whether a node could hold" in said[0]
    assert all(task in said[0] for task in ("square,", "square-2", "square-3"))
    assert len(kfp_api.service.runs) == 1


def gpu_pod(name: str, count: str) -> Obj:
    """A pod asking `count` GPUs, tolerating the GPU nodes' taint."""
    made = pod(name, sized("100m", "64Mi", gpu=count))
    made["spec"]["tolerations"] = [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    return made


def test_a_step_in_a_sub_pipeline_asking_more_gpus_than_any_node_has_is_named(
    namespace: Namespace, kfp_api: KfpEmulator, tmp_path: Path, shells: None
) -> None:
    shell = notebook(namespace, kfp_api, tmp_path)
    cell(shell, COMPONENT)
    cell(shell, GPU_PIPELINES)
    sizes = {s.task: s for s in component_sizes(load_spec(shell.user_ns["gpus"]))}
    assert sizes["inner/square"].requests == {"nvidia.com/gpu": 4.0}
    assert sizes["square"].limits == {"memory": 2.0**30} and sizes["square"].requests == {}
    said = warnings(cell(shell, "%kfp run gpus --cluster"))
    # The scheduler: the GPU nodes have too few, the others none.
    namespace.apply(gpu_pod("as-step", "4"))
    assert "Insufficient nvidia.com/gpu" in unschedulable(namespace, "as-step")
    allocatable = namespace.get("node", "gpu-1")["status"]["allocatable"]["nvidia.com/gpu"]
    assert said == [
        "Warning: inner/square: no node could ever hold it: nvidia.com/gpu 4: "
        f"the largest node has {allocatable}"
    ]
    assert len(kfp_api.service.runs) == 1
