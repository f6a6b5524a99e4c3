"""Tuning on the cluster against the real control plane with Katib's CRDs: the Experiment
applied as the profile's editor, the checks before it, and the search read back while the test
plays Katib's controllers (Trials, their Jobs, their status); the real job controller makes
the trial pods and kwok runs them; the garbage collector removes what a stop deletes."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import Settings, configure, resolve
from jupyter_mlops.errors import BadInput, Invalid, ReadOnly
from jupyter_mlops.serving.manifest import FIELD_MANAGER
from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.tuning import (
    ClusterSearch,
    Objective,
    TrialState,
    Tuner,
    choice,
    integer,
    tune,
    uniform,
)
from tests.plane import Namespace, ProfileNamespace, wait_for

from .conftest import Notebook
from .katib_controller import KatibController, run_as_wrapped

Obj = dict[str, Any]

SCORE = """
%%kfp_component score
def score(lr: float, depth: int, kind: str) -> float:
    accuracy = 1.0 - (lr - 0.3) ** 2 - 0.01 * depth - (0.05 if kind == "linear" else 0.0)
    print(f"loss={1 - accuracy}")
    return accuracy
"""
BROKEN = """
%%kfp_component broken
def broken(lr: float) -> float:
    raise ValueError(f"lr {lr} is too high")
"""
SPACE = {"lr": uniform(0.1, 0.5), "depth": integer(2, 8), "kind": choice("tree", "linear")}


def editor_settings(profile: ProfileNamespace, tmp_path: Path, **values: Any) -> Settings:
    return resolve(
        configure(kubeconfig=str(profile.kubeconfig), workspace=str(tmp_path), **values),
        env={},
        root=tmp_path,
    )


@pytest.fixture
def score(notebook: Notebook) -> Any:
    notebook.cell(SCORE)
    return notebook.shell.user_ns["score"]


def job_pod(profile: ProfileNamespace, trial: str) -> Obj:
    """The trial Job's pod, once kwok has run it to the end."""

    def ended() -> Obj | None:
        pods = profile.admin.get("pods", "-l", f"job-name={trial}")["items"]
        done = [p for p in pods if p.get("status", {}).get("phase") == "Succeeded"]
        return done[0] if done else None

    pod: Obj = wait_for(f"the pod of job {trial} to succeed", ended, 90)
    return pod


def play_trial(
    controller: KatibController,
    profile: ProfileNamespace,
    assignments: dict[str, str],
    tmp_path: Path,
) -> str:
    """One trial from suggestion to Succeeded, its metrics read from the file its wrapped
    container wrote, as the StdOut collector reads them."""
    trial = controller.create_trial(assignments)["metadata"]["name"]
    controller.running(trial)
    pod = job_pod(profile, trial)
    # The real pod opts out of the Istio sidecar, so it can end with its training container.
    assert pod["metadata"]["labels"]["sidecar.istio.io/inject"] == "false"
    assert pod["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"
    # The pod the real job controller made from the Trial's runSpec, run as Katib wraps it.
    ended = run_as_wrapped(pod, tmp_path / trial)
    assert ended.returncode == 0 and ended.completed, ended.metrics_file[-3000:]
    controller.succeeded(trial, ended.metrics_file)
    return trial


def test_the_experiment_is_applied_checked_and_read_back(
    kubeflow_plane: ControlPlane, profile: ProfileNamespace, score: Any, tmp_path: Path
) -> None:
    settings = editor_settings(profile, tmp_path)
    search = tune(
        score,
        SPACE,
        Objective("accuracy", "maximize", additional=("loss",)),
        max_trials=4,
        parallel=2,
        max_failed=1,
        cluster=True,
        name="score-search",
        settings=settings,
    )
    assert isinstance(search, ClusterSearch)
    assert search.namespace == profile.name

    # As kubectl shows it: our Experiment, applied by our field manager.
    exp = profile.get("experiment", "score-search", "--show-managed-fields")
    spec = exp["spec"]
    assert spec["objective"]["type"] == "maximize"
    assert spec["objective"]["objectiveMetricName"] == "accuracy"
    assert spec["objective"]["additionalMetricNames"] == ["loss"]
    assert spec["objective"]["metricStrategies"] == [
        {"name": "accuracy", "value": "max"},
        {"name": "loss", "value": "latest"},
    ]
    assert (spec["maxTrialCount"], spec["parallelTrialCount"], spec["maxFailedTrialCount"]) == (
        4,
        2,
        1,
    )
    assert spec["algorithm"] == {"algorithmName": "random"}
    assert spec["metricsCollectorSpec"] == {"collector": {"kind": "StdOut"}}
    assert {p["name"]: (p["parameterType"], p["feasibleSpace"]) for p in spec["parameters"]} == {
        "lr": ("double", {"min": "0.1", "max": "0.5", "distribution": "uniform"}),
        "depth": ("int", {"min": "2", "max": "8", "distribution": "uniform"}),
        "kind": ("categorical", {"list": ["tree", "linear"]}),
    }
    job = spec["trialTemplate"]["trialSpec"]
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    pod_meta = job["spec"]["template"]["metadata"]
    assert pod_meta["labels"]["sidecar.istio.io/inject"] == "false"
    assert pod_meta["annotations"]["sidecar.istio.io/inject"] == "false"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "python:3.11"
    managers = {(m["manager"], m["operation"]) for m in exp["metadata"]["managedFields"]}
    assert (FIELD_MANAGER, "Apply") in managers
    # The editor may read its own namespace (kubectl agrees), which has the collector's
    # label and injects Istio sidecars, which trial pods opt out of.
    can_read = profile.kubectl("auth", "can-i", "get", f"namespace/{profile.name}").stdout
    assert can_read.strip() == "yes"
    checks = {f.check: f for f in search.findings}
    assert "metrics-collector" not in checks
    assert checks["istio"].severity == "info"
    assert 'sidecar.istio.io/inject: "false"' in checks["istio"].message
    assert not [f for f in search.findings if f.severity == "error"]

    controller = KatibController(kubeflow_plane, profile.name, "score-search")
    tried = [
        {"lr": "0.31", "depth": "3", "kind": "tree"},
        {"lr": "0.12", "depth": "7", "kind": "linear"},
    ]
    names = [play_trial(controller, profile, a, tmp_path) for a in tried]
    controller.summarise()

    tuning = search.refresh()
    assert [t.name for t in tuning.trials] == names
    assert [t.state for t in tuning.trials] == [TrialState.SUCCEEDED] * 2
    expected = [
        score.python_func(lr=float(a["lr"]), depth=int(a["depth"]), kind=a["kind"]) for a in tried
    ]
    assert [t.objective for t in tuning.trials] == pytest.approx(expected)
    assert [t.metrics["loss"] for t in tuning.trials] == pytest.approx([1 - e for e in expected])
    assert tuning.trials[0].parameters == {"lr": 0.31, "depth": 3, "kind": "tree"}
    winner = max(range(2), key=lambda i: expected[i])
    assert tuning.best_trial == names[winner]
    assert search.best() == tuning.trials[winner].parameters
    assert Tuner(settings).best("score-search", cluster=True) == tuning.trials[winner].parameters

    listed, errors = Tuner(settings).list(cluster=True)
    assert errors == {}
    (shown,) = [t for t in listed if t.name == "score-search"]
    assert (shown.mode, shown.component, len(shown.trials)) == ("cluster", "score", 2)


def test_a_failing_component_fails_its_trial_under_katibs_wrapping(
    kubeflow_plane: ControlPlane, profile: ProfileNamespace, notebook: Notebook, tmp_path: Path
) -> None:
    notebook.cell(BROKEN)
    settings = editor_settings(profile, tmp_path)
    tune(
        notebook.shell.user_ns["broken"],
        {"lr": uniform(0.1, 0.5)},
        "accuracy",
        max_trials=2,
        parallel=1,
        cluster=True,
        name="broken",
        settings=settings,
    )
    controller = KatibController(kubeflow_plane, profile.name, "broken")
    trial = controller.create_trial({"lr": "0.4"})["metadata"]["name"]
    ended = run_as_wrapped(job_pod(profile, trial), tmp_path / trial)
    # The job fails (so Katib marks the trial Failed), and Katib's completion mark is not made.
    assert ended.returncode != 0 and not ended.completed
    assert "ValueError: lr 0.4 is too high" in ended.metrics_file
    assert "accuracy=" not in ended.metrics_file


def test_stop_keeps_the_ended_trials_and_deletes_the_running_one(
    kubeflow_plane: ControlPlane, profile: ProfileNamespace, score: Any, tmp_path: Path
) -> None:
    settings = editor_settings(profile, tmp_path)
    search = tune(
        score,
        SPACE,
        "accuracy",
        max_trials=6,
        parallel=2,
        cluster=True,
        name="stopped",
        settings=settings,
    )
    controller = KatibController(kubeflow_plane, profile.name, "stopped")
    ended = play_trial(controller, profile, {"lr": "0.3", "depth": "2", "kind": "tree"}, tmp_path)
    running = controller.create_trial({"lr": "0.2", "depth": "4", "kind": "linear"})
    running_name = running["metadata"]["name"]
    controller.running(running_name)
    controller.summarise()
    wait_for("the running trial's job", lambda: profile.admin.get("jobs", running_name))

    stopped = search.stop()

    assert stopped.stopped
    assert {t.name: t.state for t in stopped.trials} == {
        ended: TrialState.SUCCEEDED,
        running_name: TrialState.KILLED,
    }
    spec = profile.get("experiment", "stopped")["spec"]
    assert (spec["maxTrialCount"], spec["parallelTrialCount"]) == (1, 1)
    # The real garbage collector removes the deleted trial's Job (and so its pods).
    wait_for(
        "the running trial to be gone",
        lambda: profile.admin.kubectl("get", "trial", running_name, check=False).returncode,
    )
    wait_for(
        "its job to be gone",
        lambda: profile.admin.kubectl("get", "job", running_name, check=False).returncode,
        timeout=90,
    )
    assert profile.admin.kubectl("get", "trial", ended).returncode == 0
    assert search.best() == {"lr": 0.3, "depth": 2, "kind": "tree"}


def test_a_namespace_without_the_collector_label_is_refused(
    kubeflow_plane: ControlPlane,
    namespace: Namespace,
    notebook: Notebook,
    score: Any,
    tmp_path: Path,
) -> None:
    settings = resolve(
        configure(kubeconfig=str(namespace.kubeconfig), workspace=str(tmp_path)),
        env={},
        root=tmp_path,
    )
    with pytest.raises(Invalid) as error:
        tune(score, SPACE, "accuracy", cluster=True, name="unlabelled", settings=settings)
    assert "lacks the label katib.kubeflow.org/metrics-collector-injection=enabled" in (
        error.value.message
    )
    assert f"kubectl label namespace {namespace.name}" in error.value.message
    assert namespace.get("experiments")["items"] == []

    # An image whose Python the component's kfp cannot run on is refused too.
    notebook.cell(
        SCORE.replace(
            "%%kfp_component score", "%%kfp_component old --base-image python:3.8-slim"
        ).replace("def score", "def old")
    )
    with pytest.raises(
        Invalid, match=r"python:3.8-slim has Python 3.8; the kfp .* needs Python 3.9"
    ):
        tune(notebook.shell.user_ns["old"], SPACE, "accuracy", cluster=True, settings=settings)

    # The component's own mistakes are refused before the cluster is asked anything.
    with pytest.raises(BadInput, match="has no input 'width'"):
        tune(
            score,
            {"width": integer(1, 3)},
            "accuracy",
            cluster=True,
            settings=settings,
            fixed={"lr": 0.1, "depth": 2, "kind": "tree"},
        )


def test_read_only_refuses_tuning_and_stopping_on_the_cluster(
    kubeflow_plane: ControlPlane, profile: ProfileNamespace, score: Any, tmp_path: Path
) -> None:
    writer = editor_settings(profile, tmp_path)
    tune(
        score,
        SPACE,
        "accuracy",
        max_trials=2,
        parallel=1,
        cluster=True,
        name="kept",
        settings=writer,
    )
    reader = editor_settings(profile, tmp_path, read_only=True)
    with pytest.raises(ReadOnly, match="read-only mode: tuning on the cluster"):
        tune(score, SPACE, "accuracy", cluster=True, name="refused", settings=reader)
    with pytest.raises(ReadOnly, match="read-only mode: stopping"):
        Tuner(reader).stop("kept", cluster=True)
    names = [e["metadata"]["name"] for e in profile.get("experiments")["items"]]
    assert names == ["kept"]
    assert profile.get("experiment", "kept")["spec"]["maxTrialCount"] == 2


def test_the_magic_tunes_on_the_cluster_and_gives_the_best(
    kubeflow_plane: ControlPlane,
    profile: ProfileNamespace,
    notebook: Notebook,
    score: Any,
    tmp_path: Path,
) -> None:
    notebook.config("cluster = 'kubeconfig'")
    notebook.config(f"kubeconfig = {str(profile.kubeconfig)!r}")
    view, _ = notebook.printed(
        "%katib tune score --param lr=uniform(0.1,0.5) --param depth=int(2,8) --fix kind=tree "
        "--objective accuracy --trials 3 --parallel 1 --algorithm bayesianoptimization --cluster "
        "--name magic-search"
    )
    exp = profile.get("experiment", "magic-search")
    assert exp["spec"]["algorithm"]["algorithmName"] == "bayesianoptimization"
    assert [p["name"] for p in exp["spec"]["parameters"]] == ["lr", "depth"]
    (container,) = exp["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["command"][:2] == ["sh", "-c"]
    words = shlex.split(container["command"][2])
    template = words[words.index("--executor_input") + 1]
    filled = template.replace("${trialParameters.lr}", "0.2")
    executor_input = json.loads(filled.replace("${trialParameters.depth}", "4"))
    assert executor_input["inputs"]["parameterValues"] == {"lr": 0.2, "depth": 4, "kind": "tree"}
    assert view.tuning.mode == "cluster"
    controller = KatibController(kubeflow_plane, profile.name, "magic-search")
    play_trial(controller, profile, {"lr": "0.25", "depth": "5"}, tmp_path)
    controller.summarise()
    assert notebook.katib("best magic-search --cluster") == {"lr": 0.25, "depth": 5}
    rows = notebook.katib("list --cluster").rows
    assert [(r["name"], r["where"], r["trials"]) for r in rows] == [
        ("magic-search", "cluster", "1/3")
    ]
