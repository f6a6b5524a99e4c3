"""A cluster run's tasks as a user sees them, from task details shaped as KFP 2.x sends them.

The KFP emulator lists every Argo node of a run (the workflow, drivers, task DAGs, executor
pods, loop iterations, branches); the cluster backend and the run route must show only the
pipeline's tasks, once each, with their states, grouped under sub-pipelines and iterations.
"""

import json
import time
from pathlib import Path
from typing import Any

import kfp
import kubernetes
import pytest
import yaml
from kfp import compiler, dsl

from jupyter_mlops.pipelines import RunStatus
from jupyter_mlops.pipelines.cluster import ClusterPipelines
from jupyter_mlops.testing.kfp import KfpEmulator
from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import NAMESPACE, TOKEN, settings_of, training

DONE = RunStatus.SUCCEEDED


@dsl.component(base_image="python:3.11")
def prepare(rows: int) -> int:
    return rows


@dsl.component(base_image="python:3.11")
def fit(rows: int, rate: float) -> float:
    return rows * rate


@dsl.component(base_image="python:3.11")
def report(score: float) -> str:
    return str(score)


@dsl.pipeline(name="preprocess")
def preprocess(rows: int) -> int:
    first = prepare(rows=rows)
    return prepare(rows=first.output).output


@dsl.pipeline(name="sweep")
def sweep(rows: int = 10, mode: str = "train") -> None:
    data = preprocess(rows=rows)
    with dsl.ParallelFor([0.1, 0.2, 0.3]) as rate:
        fit(rows=data.output, rate=rate)
    with dsl.If(mode == "train"):
        report(score=1.0)
    with dsl.Else():
        report(score=2.0)


@dsl.pipeline(name="cleanup")
def cleanup() -> None:
    goodbye = report(score=0.0)
    with dsl.ExitHandler(goodbye):
        prepare(rows=1)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    compiler.Compiler().compile(sweep, str(path))
    return path


@pytest.fixture
def keys(package: Path) -> dict[str, str]:
    """The task names the SDK gave the loop, the branches and the report in each branch."""
    spec = yaml.safe_load(package.read_text())
    root = spec["root"]["dag"]["tasks"]
    loop = next(k for k in root if k.startswith("for-loop-"))
    branches = next(k for k in root if k.startswith("condition-branches-"))
    inner = spec["components"][root[branches]["componentRef"]["name"]]["dag"]["tasks"]
    taken, other = sorted(inner, key=lambda k: int(k.rsplit("-", 1)[1]))
    reports = {
        arm: next(iter(spec["components"][inner[arm]["componentRef"]["name"]]["dag"]["tasks"]))
        for arm in (taken, other)
    }
    return {
        "loop": loop,
        "branches": branches,
        "if": taken,
        "else": other,
        "if-report": reports[taken],
        "else-report": reports[other],
    }


@pytest.fixture
def core(kube: KubeEmulator) -> kubernetes.client.CoreV1Api:
    configuration = kubernetes.client.Configuration(
        host=kube.url, api_key={"authorization": f"Bearer {kube.admin_token}"}
    )
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))


def rows(run: Any) -> list[tuple[str, str, list[str], RunStatus]]:
    return [(t.id, t.name, t.group, t.state) for t in run.tasks]


def test_a_nested_run_shows_each_task_once_grouped_by_sub_pipeline_and_iteration(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator, package: Path, keys: dict[str, str]
) -> None:
    run = cluster_backend.submit(package, {"mode": "train"}, run_name="sweep")
    assert kfp_api.wait_for_run_state(run.id) == "SUCCEEDED"

    done = cluster_backend.get_run(run.id)

    loop, branches, chosen, report_task = (
        keys["loop"],
        keys["branches"],
        keys["if"],
        keys["if-report"],
    )
    assert rows(done) == [
        (f"{branches}.{chosen}.{report_task}", report_task, [branches, chosen], DONE),
        ("preprocess.prepare", "prepare", ["preprocess"], DONE),
        ("preprocess.prepare-2", "prepare-2", ["preprocess"], DONE),
        *[(f"{loop}[{i}].fit", "fit", [f"{loop}[{i}]"], DONE) for i in range(3)],
    ]
    assert done.tasks_done == done.tasks_total == 6
    assert done.pipeline_name == "sweep" and done.status == DONE
    # What a loop waits for is the last task of the sub-pipeline before it.
    assert {t.name: t.depends_on for t in done.tasks}["fit"] == ["prepare-2"]
    assert {t.name: t.depends_on for t in done.tasks}["prepare-2"] == ["prepare"]
    assert all(t.started_at and t.finished_at and t.started_at <= t.finished_at for t in done.tasks)


def test_each_task_names_its_own_pod_and_its_log_is_read_from_it(
    cluster_backend: ClusterPipelines,
    kfp_api: KfpEmulator,
    core: kubernetes.client.CoreV1Api,
    package: Path,
    keys: dict[str, str],
) -> None:
    run = cluster_backend.submit(package)
    kfp_api.wait_for_run_state(run.id)

    done = cluster_backend.get_run(run.id)

    pods = [core.read_namespaced_pod(t.pod, NAMESPACE) for t in done.tasks]
    assert len({p.metadata.name for p in pods}) == len(done.tasks) == 6
    for task, pod in zip(done.tasks, pods, strict=True):
        assert pod.status.phase == "Succeeded"
        assert pod.metadata.labels["pipeline/runid"] == run.id
        assert pod.metadata.annotations["workflows.argoproj.io/node-name"].endswith(
            f".{task.name}.executor"
        )
    second = f"{keys['loop']}[1].fit"
    pod = next(t.pod for t in done.tasks if t.id == second)
    log = cluster_backend.task_logs(run.id, second)
    assert log == core.read_namespaced_pod_log(pod, NAMESPACE, container="main")
    assert "task fit completed successfully" in log
    whole = cluster_backend.task_logs(run.id)
    assert f"----- {second} -----\n{log}" in whole and "----- preprocess.prepare -----" in whole


def test_tasks_that_never_ran_after_a_failure_are_canceled_not_pending(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    kfp_api.fail_tasks_named("prepare")
    run = cluster_backend.submit(training)
    assert kfp_api.wait_for_run_state(run.id) == "FAILED"

    failed = cluster_backend.get_run(run.id)

    assert [(t.name, t.state) for t in failed.tasks] == [
        ("prepare", RunStatus.FAILED),
        ("train", RunStatus.CANCELED),
    ]
    assert failed.tasks[1].pod is None and failed.tasks[1].depends_on == ["prepare"]
    assert failed.tasks_done == failed.tasks_total == 2


def test_an_exit_task_shows_beside_the_failed_tasks_it_ran_after(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    kfp_api.fail_tasks_named("prepare")
    run = cluster_backend.submit(cleanup)
    assert kfp_api.wait_for_run_state(run.id) == "FAILED"

    failed = cluster_backend.get_run(run.id)

    handler = failed.tasks[0].group[0]
    assert handler.startswith("exit-handler-")
    assert [(t.name, t.group, t.state) for t in failed.tasks] == [
        ("prepare", [handler], RunStatus.FAILED),
        ("report", [], DONE),
    ]
    assert failed.tasks[1].depends_on == ["prepare"] and failed.tasks[1].pod
    assert failed.tasks_done == failed.tasks_total == 2


def test_a_task_stopped_by_terminate_is_canceled_not_failed(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    kfp_api.set_task_seconds("prepare", 30)
    run = cluster_backend.submit(training)
    kfp_api.wait_for_task_state(run.id, "prepare", "RUNNING")

    cluster_backend.terminate(run.id)
    assert kfp_api.wait_for_run_state(run.id) == "CANCELED"
    stopped = cluster_backend.get_run(run.id)

    assert stopped.status == RunStatus.CANCELED
    assert [(t.name, t.state) for t in stopped.tasks] == [("prepare", RunStatus.CANCELED)]
    assert (stopped.tasks_done, stopped.tasks_total) == (1, 2)


def test_the_branch_not_taken_shows_no_task_and_is_not_counted(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator, package: Path, keys: dict[str, str]
) -> None:
    run = cluster_backend.submit(package, {"mode": "eval"})
    kfp_api.wait_for_run_state(run.id)

    done = cluster_backend.get_run(run.id)

    branch_tasks = [t for t in done.tasks if keys["branches"] in t.group]
    assert [(t.name, t.group) for t in branch_tasks] == [
        (keys["else-report"], [keys["branches"], keys["else"]])
    ]
    assert done.tasks_done == done.tasks_total == 6


def test_while_a_run_goes_on_its_loop_counts_its_items_before_they_start(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator, package: Path
) -> None:
    kfp_api.set_task_seconds("prepare", 30)
    run = cluster_backend.submit(package)
    kfp_api.wait_for_task_state(run.id, "prepare", "RUNNING")

    going = cluster_backend.get_run(run.id)

    assert ("prepare", RunStatus.RUNNING) in [(t.name, t.state) for t in going.tasks]
    assert "fit" not in [t.name for t in going.tasks]
    assert going.tasks_total == 6 and going.tasks_done < 6
    cluster_backend.terminate(run.id)


def test_a_task_whose_driver_runs_is_pending(config: dict[str, Any], tmp_path: Path) -> None:
    # Slow steps, so the few seconds a driver takes can be seen, as on a real cluster.
    with KfpEmulator(token=TOKEN, step_seconds=1.0) as slow:
        backend = ClusterPipelines(settings_of({**config, "kfp_endpoint": slow.url}, tmp_path))
        run = backend.submit(training)
        seen: list[tuple[str, RunStatus]] = []
        deadline = time.monotonic() + 20
        while ("prepare", RunStatus.RUNNING) not in seen and time.monotonic() < deadline:
            current = backend.get_run(run.id)
            seen.extend((t.name, t.state) for t in current.tasks if (t.name, t.state) not in seen)
            time.sleep(0.1)
        slow.stop()

    assert seen[:2] == [("prepare", RunStatus.PENDING), ("prepare", RunStatus.RUNNING)]


def test_a_run_of_a_pipeline_version_reads_its_tasks_through_the_version(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator, package: Path
) -> None:
    client = kfp.Client(host=kfp_api.url, existing_token=TOKEN, namespace=NAMESPACE)
    pipeline = client.upload_pipeline(str(package), "sweep-shared")
    version = client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    experiment = client.create_experiment("shared", namespace=NAMESPACE)
    created = client.run_pipeline(
        experiment_id=experiment.experiment_id,
        job_name="from-version",
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
    )
    kfp_api.wait_for_run_state(created.run_id)

    done = cluster_backend.get_run(created.run_id)

    assert done.pipeline_name == "sweep"
    assert done.tasks_done == done.tasks_total == 6
    assert sorted({t.name for t in done.tasks}) == ["fit", "prepare", "prepare-2", "report"]


@pytest.fixture
def mlops_config(config: dict[str, Any]) -> dict[str, Any]:
    return config


async def test_the_run_route_shows_grouped_tasks_and_a_task_log_by_id(
    jp_fetch: Any,
    cluster_backend: ClusterPipelines,
    kfp_api: KfpEmulator,
    package: Path,
    keys: dict[str, str],
) -> None:
    run = cluster_backend.submit(package)
    kfp_api.wait_for_run_state(run.id)

    response = await jp_fetch("mlops", "api", "pipelines", "runs", run.id)
    shown = json.loads(response.body)
    second = f"{keys['loop']}[2].fit"
    # jp_fetch escapes the path, as the frontend's encodeURIComponent does.
    log = await jp_fetch("mlops", "api", "pipelines", "runs", run.id, "tasks", second, "log")

    assert [t["name"] for t in shown["tasks"]].count("fit") == 3
    task = next(t for t in shown["tasks"] if t["id"] == second)
    assert task["group"] == [f"{keys['loop']}[2]"] and task["state"] == "SUCCEEDED"
    assert not {"executor", "root", "root-driver"} & {t["name"] for t in shown["tasks"]}
    answer = json.loads(log.body)
    assert answer["task"] == second and "task fit completed successfully" in answer["text"]


def test_a_run_a_schedule_started_shows_its_tasks(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator, tmp_path: Path
) -> None:
    package = tmp_path / "training.yaml"
    compiler.Compiler().compile(training, str(package))
    client = kfp.Client(host=kfp_api.url, existing_token=TOKEN, namespace=NAMESPACE)
    experiment = client.create_experiment("scheduled", namespace=NAMESPACE)
    schedule = client.create_recurring_run(
        experiment_id=experiment.experiment_id,
        job_name="every second",
        interval_second=1,
        pipeline_package_path=str(package),
    )
    (run_id,) = kfp_api.wait_for_scheduled_runs(schedule.recurring_run_id, 1)[:1]
    client.disable_recurring_run(schedule.recurring_run_id)
    kfp_api.wait_for_run_state(run_id)

    done = cluster_backend.get_run(run_id)

    # Its workflow is named <schedule>-<index>-<hash>, digits and dashes included.
    assert done.name.startswith("everysecond") and done.experiment == "scheduled"
    assert [(t.name, t.state) for t in done.tasks] == [("prepare", DONE), ("train", DONE)]
    assert done.tasks_done == done.tasks_total == 2
